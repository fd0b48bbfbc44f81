//! One adapter per released contract version that is not the current one. An adapter
//! only converts: it generates the old version's bindings, links the old version's host
//! imports to the current implementations, and answers what the old version cannot for
//! the host (see `wit/CHANGES.md`). Nothing else in the host knows old versions exist.

pub mod v0_1_0;
