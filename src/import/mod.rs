//! Importing another service's database into ours: the Django git-o-matic-9k's.

mod django;

pub use django::{DjangoDatabase, Report};
