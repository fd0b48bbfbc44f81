//! Full imports: every object type in configuration order, each read in key order with
//! keyset paging (`WHERE key > last ORDER BY key LIMIT n`, a row-value comparison for a
//! composite key), which stays fast and skips nothing however deep the import goes. The delta watermark is taken before the
//! first row is read, so changes made while the import runs are seen by the next delta.

use crate::cursor::{DeltaWatermark, ImportCursor, Position, StoredKey, StoredValue};
use crate::errors::from_sql;
use crate::mapping::{DeltaSource, TypeMapping};
use crate::objects::read_rows;
use crate::statements;
use ferry_connector::sql::Database;
use ferry_connector::types::{Error, ImportPage};

/// One page of a full import: at most `page_size` objects, from where `cursor` left off
/// (the beginning when it is none).
pub fn full_import(
    db: &dyn Database,
    types: &[TypeMapping],
    cursor: Option<&str>,
    page_size: u32,
) -> Result<ImportPage, Error> {
    let limit = page_size.max(1);
    let mut cursor = match cursor {
        Some(text) => ImportCursor::decode(text)?,
        None => ImportCursor {
            object_type: types[0].name.clone(),
            after: None,
            watermark: watermark_now(db, types)?,
        },
    };
    let mut index = types
        .iter()
        .position(|mapping| mapping.name == cursor.object_type)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "the cursor is for object type '{}', which the configuration no longer has; \
                 start a full import",
                cursor.object_type
            ))
        })?;
    let mut objects = Vec::new();
    loop {
        let mapping = &types[index];
        // Below `limit`: a page that reaches it returns at once.
        let room = limit - objects.len() as u32;
        let after = cursor
            .after
            .as_ref()
            .map(|key| key.to_key(mapping.anchor.len()))
            .transpose()?;
        let statement = statements::objects_after(db.dialect(), mapping, after, room);
        let rows = db.query(&statement).map_err(|failure| {
            from_sql(
                &format!("importing objects of type '{}'", mapping.name),
                failure,
            )
        })?;
        let read = read_rows(db, mapping, rows)?;
        let filled = read.len() >= room as usize;
        if let Some(last) = read.last() {
            cursor.after = StoredKey::keep(&last.key);
        }
        objects.extend(read.into_iter().map(|read| read.object));
        if filled {
            return Ok(ImportPage {
                objects,
                next_cursor: Some(cursor.encode()),
                watermark: None,
            });
        }
        index += 1;
        let Some(next) = types.get(index) else {
            return Ok(ImportPage {
                objects,
                next_cursor: None,
                watermark: cursor.watermark.as_ref().map(DeltaWatermark::encode),
            });
        };
        cursor.object_type = next.name.clone();
        cursor.after = None;
    }
}

/// Where delta imports will start: each delta source's largest value now. None when no
/// object type can be delta-imported.
fn watermark_now(
    db: &dyn Database,
    types: &[TypeMapping],
) -> Result<Option<DeltaWatermark>, Error> {
    let mut watermark = DeltaWatermark::default();
    for mapping in types {
        let (statement, wrap): (_, fn(Option<StoredValue>) -> Position) = match &mapping.delta {
            None => continue,
            Some(DeltaSource::ChangeTable {
                table, sequence, ..
            }) => (statements::maximum(table, sequence), Position::Sequence),
            Some(DeltaSource::Watermark(column)) => {
                (statements::maximum(&mapping.table, column), |last| {
                    Position::Watermark { last, anchor: None }
                })
            }
        };
        let rows = db.query(&statement).map_err(|failure| {
            from_sql(
                &format!(
                    "reading the delta watermark of object type '{}'",
                    mapping.name
                ),
                failure,
            )
        })?;
        let largest = rows
            .rows
            .first()
            .and_then(|row| row.first())
            .and_then(StoredValue::keep);
        watermark.types.insert(mapping.name.clone(), wrap(largest));
    }
    Ok((!watermark.types.is_empty()).then_some(watermark))
}
