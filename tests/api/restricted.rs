//! Today's GitHub against the sync: stargazer lists refused in every shape GitHub answers,
//! learnt once and probed daily, and GraphQL queries cut short by GitHub's execution limits.
//! Nothing stored is lost, nothing is marked gone, and no job fails for it.

use gitomatic::config::Config;
use gitomatic::db::Db;
use gitomatic::sync::Steps;
use gitomatic::with_pool;

use crate::fake_github::limits::{GraphqlRefusal, RestRefusal};
use crate::fake_github::{Graph, Restrictions, WorkLimit};
use crate::helpers::{TestDb, backend_tests};
use crate::sync::{
    SHAPE, SMALL, Setup, expected, rest_beside_completion, rest_only, setup_with, stored,
};

backend_tests!(
    a_rest_403_keeps_the_stars_learnt_from_starred_lists,
    a_rest_404_on_a_served_repository_marks_nothing_gone,
    an_empty_rest_page_beside_a_count_sweeps_nothing,
    a_graphql_forbidden_list_is_restricted,
    an_empty_graphql_page_beside_its_total_count_is_restricted,
    a_restriction_is_learnt_once_and_a_daily_probe_notices_it_lifted,
    a_collaborators_repository_is_read_past_the_restriction_over_rest,
    a_collaborators_repository_is_read_past_the_restriction_over_graphql,
    a_graphql_time_out_shrinks_the_next_queries,
    parts_left_out_by_resource_limits_are_asked_again_over_graphql,
    every_request_names_the_configured_rest_api_version,
);

/// The stars of `repository` stored, by the stargazer's GitHub id.
async fn stargazers_stored(db: &Db, repository: i64) -> Vec<i64> {
    with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT d.github_id FROM stars s JOIN developers d ON d.id = s.developer_id \
         JOIN repositories r ON r.id = s.repository_id WHERE r.github_id = $1 \
         ORDER BY d.github_id"
    )
    .bind(repository)
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn marked(db: &Db) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM repositories WHERE gone_at IS NOT NULL OR blocked_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn restriction_answer(db: &Db) -> Option<String> {
    db.list_restrictions()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.list == "stargazers")
        .map(|r| r.answer)
}

fn stargazer_requests(s: &Setup) -> usize {
    let requests = s.fake.requests();
    let rest = requests
        .iter()
        .filter(|r| r.path_and_query.contains("/stargazers"));
    rest.count()
}

/// GitHub refuses stargazer lists as `restrictions` say from the start. A stargazer of one of
/// the center's repositories is synced first, so their starred list shows the star; then the
/// center's full sync meets the refusal, and must keep that star, mark nothing and succeed,
/// with the stargazer steps reported restricted.
async fn a_star_learnt_elsewhere_survives(
    db: TestDb,
    configure: fn(&mut Config),
    restrictions: Restrictions,
    answered: &str,
) {
    let graph = Graph::generate(SMALL);
    let center = graph.user("center").unwrap().id;
    let repository = graph
        .repos_of(center)
        .into_iter()
        .find(|repo| !graph.stargazers_of(repo.id).is_empty())
        .expect("a starred repository of the center's")
        .id;
    let (stargazer, _) = graph.stargazers_of(repository)[0].clone();
    let login = graph
        .users
        .iter()
        .find(|u| u.id == stargazer)
        .unwrap()
        .login
        .clone();
    let s = setup_with(db, graph, configure).await;
    s.fake.restrict_stargazers(restrictions);
    s.syncer
        .full_profile_sync(&login, &Steps::new())
        .await
        .unwrap();
    assert_eq!(stargazers_stored(&s.db, repository).await, [stargazer]);

    let steps = Steps::new();
    s.syncer
        .full_profile_sync("center", &steps)
        .await
        .expect("a refused list is no failure");
    assert!(
        stargazers_stored(&s.db, repository)
            .await
            .contains(&stargazer),
        "the star the starred list showed is kept"
    );
    assert_eq!(marked(&s.db).await, 0, "no repository is marked gone");
    let checkpoint = steps.state().checkpoint.to_string();
    assert!(
        checkpoint.contains(&format!("stargazers:{repository}:restricted")),
        "{checkpoint}"
    );
    let answer = restriction_answer(&s.db)
        .await
        .expect("the restriction is kept");
    assert!(answer.contains(answered), "{answer}");
    // The center's other lists were read in full all the same.
    let truth = expected(&s.fake.graph(), "center");
    let stored = stored(&s.db).await;
    assert_eq!(stored.follows_of(center), truth.follows_of(center));
}

async fn a_rest_403_keeps_the_stars_learnt_from_starred_lists(db: TestDb) {
    let only = Restrictions {
        rest: vec![RestRefusal::Forbidden],
        ..Restrictions::default()
    };
    a_star_learnt_elsewhere_survives(db, rest_only, only, "403: Resource not accessible").await;
}

async fn a_rest_404_on_a_served_repository_marks_nothing_gone(db: TestDb) {
    let only = Restrictions {
        rest: vec![RestRefusal::NotFound],
        ..Restrictions::default()
    };
    a_star_learnt_elsewhere_survives(db, rest_only, only, "404 on the list of a repository").await;
}

async fn an_empty_rest_page_beside_a_count_sweeps_nothing(db: TestDb) {
    let only = Restrictions {
        rest: vec![RestRefusal::Empty],
        ..Restrictions::default()
    };
    a_star_learnt_elsewhere_survives(db, rest_only, only, "an empty list where GitHub counts")
        .await;
}

fn graphql(_: &mut Config) {}

async fn a_graphql_forbidden_list_is_restricted(db: TestDb) {
    let only = Restrictions {
        graphql: vec![GraphqlRefusal::Forbidden],
        ..Restrictions::default()
    };
    a_star_learnt_elsewhere_survives(db, graphql, only, "GraphQL FORBIDDEN").await;
}

async fn an_empty_graphql_page_beside_its_total_count_is_restricted(db: TestDb) {
    let only = Restrictions {
        graphql: vec![GraphqlRefusal::Empty],
        ..Restrictions::default()
    };
    a_star_learnt_elsewhere_survives(db, graphql, only, "GraphQL: an empty list").await;
}

/// A hundred and twenty repositories, every stargazer list refused: the first round's
/// pages learn it, the other lists are not asked; the next sync asks none; once a probe is
/// due, one request finds the lists served again, and the sync after reads them all.
async fn a_restriction_is_learnt_once_and_a_daily_probe_notices_it_lifted(db: TestDb) {
    let s = setup_with(db, Graph::generate(SHAPE), rest_only).await;
    s.fake.restrict_stargazers(Restrictions::everywhere());
    let repositories = s.fake.graph().repos_of(1).len();
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let asked = stargazer_requests(&s);
    eprintln!("{repositories} stargazer lists refused: {asked} asked");
    // A round is asked while the one before is stored: two rounds of ten pages at most.
    assert!(
        asked <= 20,
        "two rounds of REST pages at most, of {repositories}: {asked}"
    );
    assert_eq!(marked(&s.db).await, 0);

    s.fake.clear_requests();
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stargazer_requests(&s), 0, "known refused: not asked again");

    s.fake.restrict_stargazers(Restrictions::default());
    // A day passes.
    with_pool!(&s.db, |pool| sqlx::query(
        "UPDATE list_restrictions SET probed_at = $1"
    )
    .bind(gitomatic::db::Timestamp(
        chrono::Utc::now() - chrono::Duration::days(2)
    ))
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    s.fake.clear_requests();
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stargazer_requests(&s), 1, "one probe");
    assert_eq!(restriction_answer(&s.db).await, None, "the probe lifted it");

    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

/// GitHub serves a repository's stargazers to its admins and collaborators all the same:
/// the center's last starred repository, which GitHub says the credential administers, is
/// read in full past the restriction learnt on the others, without lifting it, and again
/// on the next sync. Once GitHub takes that standing away, its list is restricted too,
/// and its stars stay. Returns the setup and the repository's GitHub id.
async fn a_collaborators_repository_is_read_past_the_restriction(
    db: TestDb,
    configure: fn(&mut Config),
) -> (Setup, i64) {
    let graph = Graph::generate(SHAPE);
    let own = graph
        .repos_of(1)
        .into_iter()
        .rfind(|repo| !graph.stargazers_of(repo.id).is_empty())
        .expect("a starred repository of the center's")
        .id;
    let mut truth: Vec<i64> = graph
        .stargazers_of(own)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    truth.sort_unstable();
    let s = setup_with(db, graph, configure).await;
    s.fake.restrict_stargazers(Restrictions {
        readable: [own].into(),
        ..Restrictions::everywhere()
    });
    let restricted = format!("stargazers:{own}:restricted");
    for _ in 0..2 {
        let steps = Steps::new();
        s.syncer.full_profile_sync("center", &steps).await.unwrap();
        let checkpoint = steps.state().checkpoint.to_string();
        assert!(!checkpoint.contains(&restricted), "{checkpoint}");
        assert!(checkpoint.contains(":restricted"), "{checkpoint}");
        assert_eq!(stargazers_stored(&s.db, own).await, truth);
        assert!(
            restriction_answer(&s.db).await.is_some(),
            "reading a collaborator's list lifts nothing"
        );
    }

    s.fake.restrict_stargazers(Restrictions::everywhere());
    let steps = Steps::new();
    s.syncer.full_profile_sync("center", &steps).await.unwrap();
    let checkpoint = steps.state().checkpoint.to_string();
    assert!(checkpoint.contains(&restricted), "{checkpoint}");
    assert_eq!(stargazers_stored(&s.db, own).await, truth, "its stars stay");
    assert_eq!(marked(&s.db).await, 0);
    (s, own)
}

/// Over REST, the requests show it: a collaborator's list is the only one asked while
/// the others are closed, and none once GitHub no longer counts the credential in.
async fn a_collaborators_repository_is_read_past_the_restriction_over_rest(db: TestDb) {
    let (s, own) = a_collaborators_repository_is_read_past_the_restriction(db, rest_only).await;
    s.fake.restrict_stargazers(Restrictions {
        readable: [own].into(),
        ..Restrictions::everywhere()
    });
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    // Its first page by name, the next by id, as GitHub's links have them.
    let names = {
        let graph = s.fake.graph();
        let repo = graph.repos.iter().find(|repo| repo.id == own).unwrap();
        [
            format!("/{}/stargazers", repo.name),
            format!("/repositories/{own}/stargazers"),
        ]
    };
    s.fake.clear_requests();
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let requests = s.fake.requests();
    let asked: Vec<&str> = requests
        .iter()
        .map(|r| r.path_and_query.as_str())
        .filter(|path| path.contains("/stargazers"))
        .collect();
    assert!(!asked.is_empty());
    let its_own = |path: &&str| names.iter().any(|name| path.contains(name.as_str()));
    assert!(asked.iter().all(its_own), "{asked:?}");

    s.fake.restrict_stargazers(Restrictions::everywhere());
    for _ in 0..2 {
        s.fake.clear_requests();
        s.syncer
            .full_profile_sync("center", &Steps::new())
            .await
            .unwrap();
    }
    assert_eq!(
        stargazer_requests(&s),
        0,
        "no longer a collaborator: closed"
    );
}

async fn a_collaborators_repository_is_read_past_the_restriction_over_graphql(db: TestDb) {
    a_collaborators_repository_is_read_past_the_restriction(db, graphql).await;
}

/// A work limit that times out a query of a hundred full pages: each time-out makes the
/// next query of pages smaller, and the sync ends with GitHub's graph all the same.
async fn a_graphql_time_out_shrinks_the_next_queries(db: TestDb) {
    let s = setup_with(db, Graph::generate(SHAPE), graphql).await;
    s.fake.set_work_limit(Some(WorkLimit {
        partial_above: i64::MAX,
        timeout_above: 6_000,
        penalty: 1,
    }));
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let pages: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("Pages"))
        .collect();
    let timeouts: Vec<usize> = (0..pages.len())
        .filter(|&at| pages[at].graphql_error.as_deref() == Some("TIMEOUT"))
        .collect();
    let size = s.syncer.github().sizing().now();
    eprintln!(
        "{} time-outs, {} points lost of {}; settled on {size:?}",
        timeouts.len(),
        s.fake.points_lost(),
        s.fake.points()
    );
    assert!(!timeouts.is_empty(), "the limit was met");
    for at in timeouts {
        let (timed_out, next) = (&pages[at], &pages[at + 1]);
        assert!(
            next.fields < timed_out.fields,
            "{} lists timed out, then {} were asked",
            timed_out.fields,
            next.fields
        );
    }
    let late = &pages[pages.len() / 2..];
    assert!(
        late.iter().all(|r| r.graphql_error.is_none()),
        "settled: no time-out in the sync's second half"
    );
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

/// A work limit that cuts short nearly every query: the pages and profiles GitHub leaves out
/// are asked again in smaller queries, never over REST, never taken for gone.
async fn parts_left_out_by_resource_limits_are_asked_again_over_graphql(db: TestDb) {
    let s = setup_with(db, Graph::generate(SHAPE), graphql).await;
    s.fake.set_work_limit(Some(WorkLimit {
        partial_above: 50,
        timeout_above: i64::MAX,
        penalty: 0,
    }));
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let cut_short = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.graphql_error.as_deref() == Some("RESOURCE_LIMITS_EXCEEDED"))
        .count();
    eprintln!(
        "{cut_short} answers cut short; settled on {:?}",
        s.syncer.github().sizing().now()
    );
    assert!(cut_short > 0);
    assert_eq!(
        rest_beside_completion(&s.fake),
        1,
        "nothing but the center's profile over REST"
    );
    assert_eq!(marked(&s.db).await, 0);
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

/// GitHub's 2026-03-10 REST version has breaking changes: the version is named, and changes
/// only when the setting does.
async fn every_request_names_the_configured_rest_api_version(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |config| {
        config.github_api_version = "2026-03-10".to_owned();
    })
    .await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let requests = s.fake.requests();
    assert!(requests.len() > 2);
    for request in requests {
        assert_eq!(
            request.api_version.as_deref(),
            Some("2026-03-10"),
            "{}",
            request.path_and_query
        );
    }
    assert_eq!(Config::default().github_api_version, "2022-11-28");
}
