//! The SCIM 2.0 surface (RFC 7643 / RFC 7644), as identity providers really use it.

mod attr_json;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod filter_eval;
pub mod groups;
pub mod id;
pub mod list;
pub mod mapping;
pub mod members;
pub mod patch;
pub mod path;
pub mod projection;
pub mod references;
pub mod request;
pub mod router;
pub mod schema;
pub mod users;
