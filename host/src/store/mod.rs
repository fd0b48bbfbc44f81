//! Ferry's own state, kept in the data folder: each app's cache, watermarks and import
//! history.

pub mod anchors;
pub mod attributes;
pub mod cache;
pub mod members;
pub mod writer;
