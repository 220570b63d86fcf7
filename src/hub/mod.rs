//! The Hub's side: payload formats, scopes, repo names and webhook secrets.

pub mod api;
pub mod event;
pub mod json;
pub mod legacy;
pub mod payload;
pub mod repo;
pub mod scope;
pub mod secret;

pub use event::{Event, Format};
pub use repo::{RepoName, RepoType};
pub use scope::{Action, Scope};
