//! Delta imports: what changed since the watermark, per object type, from its change
//! table (which also records hard deletes) or its watermark column (which sees updates
//! and soft deletes). Each type keeps its own position in the watermark, so a page can
//! stop anywhere and the next call goes on from there.

use std::collections::BTreeMap;

use crate::anchor;
use crate::cursor::{DeltaWatermark, Position, StoredKey, StoredValue};
use crate::errors::from_sql;
use crate::mapping::{DeltaSource, TypeMapping};
use crate::objects::{ReadObject, read_by_anchor, read_rows};
use crate::statements;
use ferry_connector::sql::{Database, Statement};
use ferry_connector::types::{DeltaEntry, DeltaPage, Error, ObjectRef};

/// The changes after `watermark`, at most `page_size` of them; `more` when the page was
/// filled, so the host calls again at once.
pub fn delta_import(
    db: &dyn Database,
    types: &[TypeMapping],
    watermark: &str,
    page_size: u32,
) -> Result<DeltaPage, Error> {
    if types.iter().all(|mapping| mapping.delta.is_none()) {
        return Err(Error::unsupported(
            "no object type has a 'watermark' column or a 'change-table', so changes \
             cannot be seen; configure one, or rely on full imports",
        ));
    }
    let mut state = DeltaWatermark::decode(watermark)?;
    state
        .types
        .retain(|name, _| types.iter().any(|mapping| mapping.name == *name));
    let limit = page_size.max(1);
    let mut page = Page {
        entries: Vec::new(),
        room: limit,
    };
    let mut more = false;
    for mapping in types {
        let Some(source) = &mapping.delta else {
            continue;
        };
        let position = state.types.remove(&mapping.name);
        let position = match source {
            DeltaSource::ChangeTable {
                table,
                sequence,
                anchor,
            } => {
                let after = match position {
                    Some(Position::Sequence(after)) => after,
                    _ => None,
                };
                let statement = statements::changes_after(
                    db.dialect(),
                    table,
                    sequence,
                    anchor,
                    after.as_ref().map(StoredValue::to_sql),
                    page.room,
                );
                Position::Sequence(from_change_table(db, mapping, &statement, &mut page)?.or(after))
            }
            DeltaSource::Watermark(column) => {
                let (last, anchor) = match position {
                    Some(Position::Watermark { last, anchor }) => (last, anchor),
                    _ => (None, None),
                };
                let after_anchor = anchor
                    .as_ref()
                    .map(|key| key.to_key(mapping.anchor.len()))
                    .transpose()?;
                let statement = statements::changed_since(
                    db.dialect(),
                    mapping,
                    column,
                    last.as_ref().map(StoredValue::to_sql),
                    after_anchor,
                    page.room,
                );
                from_watermark_column(db, mapping, &statement, &mut page)?
                    .unwrap_or(Position::Watermark { last, anchor })
            }
        };
        state.types.insert(mapping.name.clone(), position);
        if page.room == 0 {
            more = true;
            break;
        }
    }
    Ok(DeltaPage {
        entries: page.entries,
        watermark: state.encode(),
        more,
    })
}

/// The page being filled: its entries, and how many more changes it may read.
struct Page {
    entries: Vec<DeltaEntry>,
    room: u32,
}

impl Page {
    /// Adds the current state of a changed object: an upsert, or a delete when the row is
    /// gone or soft-deleted.
    fn push(&mut self, mapping: &TypeMapping, anchor: String, current: Option<ReadObject>) {
        self.entries.push(match current {
            Some(read) if !read.soft_deleted => DeltaEntry::Upsert(read.object),
            _ => DeltaEntry::Delete(ObjectRef {
                object_type: mapping.name.clone(),
                anchor,
            }),
        });
    }

    /// Counts `read` changes against the room left.
    fn consume(&mut self, read: usize) {
        self.room = self
            .room
            .saturating_sub(u32::try_from(read).unwrap_or(u32::MAX));
    }
}

/// Reads the next changes of a change table and the current rows of the objects they
/// name; the new sequence position when there were changes.
fn from_change_table(
    db: &dyn Database,
    mapping: &TypeMapping,
    statement: &Statement,
    page: &mut Page,
) -> Result<Option<StoredValue>, Error> {
    let context = format!("reading the change table of object type '{}'", mapping.name);
    let changes = db
        .query(statement)
        .map_err(|failure| from_sql(&context, failure))?;
    page.consume(changes.rows.len());
    let mut last = None;
    let mut anchors: Vec<String> = Vec::new();
    let width = mapping.anchor.len() + 1;
    for row in &changes.rows {
        let Some((sequence, key)) = row.split_first().filter(|_| row.len() == width) else {
            return Err(Error::internal(format!(
                "{context}: a row has {} columns, {width} were selected",
                row.len()
            )));
        };
        last = StoredValue::keep(sequence).or(last);
        let anchor = anchor::encode(key).map_err(|reason| {
            Error::internal(format!("{context}: an anchor column holds {reason}"))
        })?;
        if !anchors.contains(&anchor) {
            anchors.push(anchor);
        }
    }
    let keys = anchors
        .iter()
        .filter_map(|anchor| mapping.key_of(anchor))
        .collect();
    let mut current: BTreeMap<String, ReadObject> = read_by_anchor(db, mapping, keys)?
        .into_iter()
        .map(|read| (read.object.anchor.clone(), read))
        .collect();
    for anchor in anchors {
        let read = current.remove(&anchor);
        page.push(mapping, anchor, read);
    }
    Ok(last)
}

/// Reads the next rows by watermark column; the new position when there were rows.
fn from_watermark_column(
    db: &dyn Database,
    mapping: &TypeMapping,
    statement: &Statement,
    page: &mut Page,
) -> Result<Option<Position>, Error> {
    let rows = db.query(statement).map_err(|failure| {
        from_sql(
            &format!("reading the changed objects of type '{}'", mapping.name),
            failure,
        )
    })?;
    let read = read_rows(db, mapping, rows)?;
    page.consume(read.len());
    let position = read.last().map(|last| Position::Watermark {
        last: last.rest.first().and_then(StoredValue::keep),
        anchor: StoredKey::keep(&last.key),
    });
    for object in read {
        let anchor = object.object.anchor.clone();
        page.push(mapping, anchor, Some(object));
    }
    Ok(position)
}
