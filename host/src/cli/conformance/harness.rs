//! The connector under test as the checks see it: exports of one change at a time, full
//! and delta imports run to the end with the paging rules enforced on every page, and a
//! record of every object the suite created, so [`Harness::cleanup`] can remove them
//! even when a check failed half-way.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::runtime::bindings::types::{
    self, AddChange, Attribute, AttributeChange, Change, DeltaEntry, ErrorKind, Object, ObjectRef,
    UpdateChange,
};
use crate::runtime::pool::{CallError, SessionPool};

/// More pages than this in one import means the cursor never ends.
const MAX_PAGES: usize = 100_000;

/// Why a call did not give what the contract promises.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The connector answered with an error; some checks expect a particular kind.
    Refused(types::Error),
    /// Anything else: the instance failed, or the answer breaks the contract.
    Broken(String),
}

impl Failure {
    /// The error kind, when the connector refused.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Failure::Refused(e) => Some(e.kind),
            Failure::Broken(_) => None,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(e) => {
                let message = crate::runtime::state::printable(crate::runtime::state::truncate(
                    &e.message, 2048,
                ));
                write!(f, "the connector answered {}: {message}", kind_name(e.kind))?;
                match &e.attribute {
                    Some(attribute) => write!(f, " (attribute '{attribute}')"),
                    None => Ok(()),
                }
            }
            Failure::Broken(reason) => f.write_str(reason),
        }
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Connector(e) => Failure::Refused(e),
            other => Failure::Broken(format!("the call failed: {other}")),
        }
    }
}

/// The contract's name of an error kind.
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "invalid-input",
        ErrorKind::NotFound => "not-found",
        ErrorKind::AlreadyExists => "already-exists",
        ErrorKind::PermissionDenied => "permission-denied",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Internal => "internal",
    }
}

/// What one whole full import returned, of the object type under test.
pub struct Imported {
    /// The objects of the type under test, in the order they came.
    pub objects: Vec<Object>,
    /// How many objects (of any type) each page held.
    pub pages: Vec<usize>,
    /// The last page's watermark.
    pub watermark: Option<String>,
}

/// The connector under test, for one object type.
pub struct Harness {
    pool: SessionPool,
    object_type: String,
    page_size: u32,
    created: Mutex<BTreeSet<String>>,
}

impl Harness {
    /// Runs calls on `pool` for objects of `object_type`; read-backs import with the
    /// app's `page_size`.
    pub fn new(pool: SessionPool, object_type: String, page_size: u32) -> Self {
        Self {
            pool,
            object_type,
            page_size,
            created: Mutex::new(BTreeSet::new()),
        }
    }

    /// A reference to object `anchor` of the type under test.
    pub fn object_ref(&self, anchor: &str) -> ObjectRef {
        ObjectRef {
            object_type: self.object_type.clone(),
            anchor: anchor.to_owned(),
        }
    }

    fn add_change(&self, attributes: Vec<Attribute>) -> Change {
        Change::Add(AddChange {
            object_type: self.object_type.clone(),
            attributes,
        })
    }

    /// Exports `changes` in one call; one result per change. Every added object is
    /// recorded for cleanup, every deleted one forgotten.
    pub async fn export(
        &self,
        changes: Vec<Change>,
    ) -> Result<Vec<Result<Option<Object>, Failure>>, Failure> {
        let results = self.pool.export(changes.clone()).await?;
        let mut created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        Ok(changes
            .iter()
            .zip(results)
            .map(|(change, result)| match (change, result) {
                (Change::Add(_), Ok(Some(object))) => {
                    created.insert(object.anchor.clone());
                    Ok(Some(object))
                }
                (Change::Add(_), Ok(None)) => Err(Failure::Broken(
                    "the add succeeded but returned no object (the contract requires it, \
                     for the anchor)"
                        .into(),
                )),
                (Change::Delete(target), Ok(None)) => {
                    created.remove(&target.anchor);
                    Ok(None)
                }
                (_, result) => result.map_err(Failure::Refused),
            })
            .collect())
    }

    async fn export_one(&self, change: Change) -> Result<Option<Object>, Failure> {
        self.export(vec![change])
            .await?
            .pop()
            .unwrap_or_else(|| Err(Failure::Broken("no result".into())))
    }

    /// Adds an object; returns it as the connector reports it, checked to be of the type
    /// under test and to have an anchor.
    pub async fn add(&self, attributes: Vec<Attribute>) -> Result<Object, Failure> {
        let object = self
            .export_one(self.add_change(attributes))
            .await?
            .ok_or_else(|| Failure::Broken("the add returned no object".into()))?;
        if object.anchor.is_empty() {
            return Err(Failure::Broken(
                "the added object has an empty anchor".into(),
            ));
        }
        if object.object_type != self.object_type {
            return Err(Failure::Broken(format!(
                "the added object is of type '{}', not '{}'",
                object.object_type, self.object_type
            )));
        }
        Ok(object)
    }

    /// Adds several objects in one export call.
    pub async fn add_many(
        &self,
        objects: Vec<Vec<Attribute>>,
    ) -> Result<Vec<Result<Option<Object>, Failure>>, Failure> {
        let changes = objects.into_iter().map(|a| self.add_change(a)).collect();
        self.export(changes).await
    }

    /// Updates object `anchor`; the object returned, when the connector returns one.
    pub async fn update(
        &self,
        anchor: &str,
        changes: Vec<AttributeChange>,
    ) -> Result<Option<Object>, Failure> {
        self.export_one(Change::Update(UpdateChange {
            target: self.object_ref(anchor),
            changes,
        }))
        .await
    }

    /// Deletes object `anchor`.
    pub async fn delete(&self, anchor: &str) -> Result<(), Failure> {
        match self
            .export_one(Change::Delete(self.object_ref(anchor)))
            .await?
        {
            None => Ok(()),
            Some(_) => Err(Failure::Broken(
                "the delete returned an object (the contract says none)".into(),
            )),
        }
    }

    /// A whole full import with `page_size`, all pages on one reserved session. Breaks
    /// the contract (and fails) when a page is larger than `page_size`, a cursor comes
    /// back unchanged, or the import does not end.
    pub async fn import(&self, page_size: u32) -> Result<Imported, Failure> {
        let mut session = self.pool.reserve().await?;
        let mut imported = Imported {
            objects: Vec::new(),
            pages: Vec::new(),
            watermark: None,
        };
        let mut cursor: Option<String> = None;
        loop {
            if imported.pages.len() >= MAX_PAGES {
                return Err(Failure::Broken(format!(
                    "the full import did not end after {MAX_PAGES} pages"
                )));
            }
            let page = session.full_import(cursor.clone(), page_size).await?;
            if page.objects.len() > page_size as usize {
                return Err(Failure::Broken(format!(
                    "page {} of a full import held {} objects, more than the page size {page_size}",
                    imported.pages.len() + 1,
                    page.objects.len()
                )));
            }
            imported.pages.push(page.objects.len());
            imported.objects.extend(
                page.objects
                    .into_iter()
                    .filter(|o| o.object_type == self.object_type),
            );
            match page.next_cursor {
                None => {
                    imported.watermark = page.watermark;
                    return Ok(imported);
                }
                Some(next) if cursor.as_ref() == Some(&next) => {
                    return Err(Failure::Broken(format!(
                        "page {} of a full import returned the cursor it was given: the \
                         import would never end",
                        imported.pages.len()
                    )));
                }
                Some(next) => cursor = Some(next),
            }
        }
    }

    /// A whole full import with the app's page size.
    pub async fn import_all(&self) -> Result<Imported, Failure> {
        self.import(self.page_size).await
    }

    /// Object `anchor` as a full import (with the app's page size) returns it; `None`
    /// when absent: an import is how the host learns an object's state.
    pub async fn find(&self, anchor: &str) -> Result<Option<Object>, Failure> {
        let mut found: Vec<Object> = self
            .import_all()
            .await?
            .objects
            .into_iter()
            .filter(|o| o.anchor == anchor)
            .collect();
        if found.len() > 1 {
            return Err(Failure::Broken(format!(
                "object '{anchor}' came {} times in one full import",
                found.len()
            )));
        }
        Ok(found.pop())
    }

    /// `read` of object `anchor` (contract 0.2.0); checked to be that object.
    pub async fn read(&self, anchor: &str) -> Result<Option<Object>, Failure> {
        let found = self.pool.read(&self.object_ref(anchor)).await?;
        match found {
            Some(object) if object.anchor != anchor || object.object_type != self.object_type => {
                Err(Failure::Broken(format!(
                    "read of '{anchor}' returned object '{}' of type '{}'",
                    object.anchor, object.object_type
                )))
            }
            other => Ok(other),
        }
    }

    /// Every delta entry since `watermark`, following `more`; returns them with the
    /// final watermark.
    pub async fn delta(&self, watermark: String) -> Result<(Vec<DeltaEntry>, String), Failure> {
        let mut entries = Vec::new();
        let mut watermark = watermark;
        for _ in 0..MAX_PAGES {
            let page = self
                .pool
                .delta_import(watermark.clone(), self.page_size)
                .await?;
            if page.entries.len() > self.page_size as usize {
                return Err(Failure::Broken(format!(
                    "a delta page held {} entries, more than the page size {}",
                    page.entries.len(),
                    self.page_size
                )));
            }
            entries.extend(page.entries);
            watermark = page.watermark;
            if !page.more {
                return Ok((entries, watermark));
            }
        }
        Err(Failure::Broken(format!(
            "the delta import still had more after {MAX_PAGES} pages"
        )))
    }

    /// Deletes every object the suite created and has not deleted, then every object of
    /// the type whose `name_attribute` starts with `run` (an add whose answer was lost),
    /// and checks with a full import that none is left. The text says how many were
    /// removed.
    pub async fn cleanup(&self, name_attribute: &str, run: &str) -> Result<String, String> {
        let mut removed = 0;
        let mut problems = Vec::new();
        let anchors: Vec<String> = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        for anchor in anchors {
            match self.delete(&anchor).await {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == Some(ErrorKind::NotFound) => {
                    self.forget(&anchor);
                }
                Err(e) => problems.push(format!("deleting '{anchor}': {e}")),
            }
        }
        let ours = |object: &Object| {
            self.is_created(&object.anchor)
                || super::values::values_of(object, name_attribute)
                    .iter()
                    .any(|v| matches!(v, types::Value::String(s) if s.starts_with(run)))
        };
        let left: Vec<Object> = match self.import_all().await {
            Ok(imported) => imported.objects.into_iter().filter(ours).collect(),
            Err(e) => return Err(format!("the full import after cleaning up failed: {e}")),
        };
        for object in &left {
            match self.delete(&object.anchor).await {
                Ok(()) => removed += 1,
                Err(e) => problems.push(format!("deleting '{}': {e}", object.anchor)),
            }
        }
        if !left.is_empty() {
            let again = self
                .import_all()
                .await
                .map_err(|e| format!("the full import after cleaning up failed: {e}"))?;
            let still: Vec<String> = again
                .objects
                .iter()
                .filter(|o| ours(o))
                .map(|o| o.anchor.clone())
                .collect();
            if !still.is_empty() {
                problems.push(format!(
                    "still there after their delete: {}",
                    still.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(format!("removed {removed} object(s) the suite created"))
        } else {
            Err(problems.join("; "))
        }
    }

    fn is_created(&self, anchor: &str) -> bool {
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(anchor)
    }

    fn forget(&self, anchor: &str) {
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(anchor);
    }
}
