//! A graph to crawl: users who follow each other (popular ones drawing most followers), own a
//! few repositories and star others'. Where `Graph::generate` builds one user's neighbourhood,
//! this builds a network that discovery can walk for as long as it likes.

use std::collections::HashSet;

use super::{Graph, Maker, Rng};

/// The size of a generated network; every count is an average per user.
#[derive(Clone, Copy, Debug)]
pub struct Network {
    pub users: usize,
    pub following: usize,
    pub repos: usize,
    pub starred: usize,
    pub seed: u64,
}

impl Graph {
    /// A network of `users` users, user 1 being "center". The same network always yields the
    /// same graph.
    pub fn network(network: Network) -> Graph {
        let mut maker = Maker {
            rng: Rng(network.seed),
            graph: Graph::default(),
        };
        maker.user("center".to_owned());
        while maker.graph.users.len() < network.users {
            maker.other_user();
        }
        let users = network.users;
        for user in 1..=users as i64 {
            let count = maker.rng.below(2 * network.following + 1);
            let mut followed = HashSet::new();
            for _ in 0..count {
                let other = popular(&mut maker.rng, users);
                if other != user && followed.insert(other) {
                    maker.graph.follows.push((user, other));
                }
            }
        }
        let mut repos = Vec::new();
        for owner in 1..=users as i64 {
            for _ in 0..maker.rng.below(2 * network.repos + 1) {
                repos.push(maker.repo(owner));
            }
        }
        for user in 1..=users as i64 {
            let mut starred = HashSet::new();
            for _ in 0..maker.rng.below(2 * network.starred + 1) {
                let repo = repos[popular(&mut maker.rng, repos.len()) as usize - 1];
                if starred.insert(repo) {
                    maker.star(user, repo);
                }
            }
        }
        maker.graph
    }
}

/// A number from 1 to `n`, small ones far more often: a few are very popular, most are not.
fn popular(rng: &mut Rng, n: usize) -> i64 {
    (rng.unit().powi(3) * n as f64) as i64 % n as i64 + 1
}
