//! How the cache stores an object's attributes: as postcard, a compact binary serde
//! format with a documented, stable wire format, in a BLOB.
//!
//! Caches before this format held JSON text. Measured on 100,000 users of 9 attributes
//! each (the `sql-import` data): JSON took 556 bytes per user and postcard 256, and
//! writing them (without lookups) took 9.1–9.9 µs per user against 6.3–7.1: fewer pages
//! to fill, split and append to the WAL, and less to encode. Reads decode less, too.
//!
//! A file written in JSON is converted when it is opened ([`convert_json_rows`]); its
//! rows are TEXT, so a row of either format is told apart by its SQLite type, not by
//! guessing from its bytes.

use anyhow::Context;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use crate::runtime::bindings::types::Attribute;

/// The format the cache's `attributes` column holds, recorded in its state under
/// [`FORMAT_KEY`]. A file without the key predates it and holds JSON.
pub const FORMAT: &str = "postcard-1";

/// The state key recording [`FORMAT`].
pub const FORMAT_KEY: &str = "attributes-format";

/// Rows converted per transaction: bounds the WAL and the memory one step holds.
const CONVERT_BATCH: usize = 10_000;

/// The stored form of `attributes`.
pub fn encode(attributes: &[Attribute]) -> anyhow::Result<Vec<u8>> {
    postcard::to_allocvec(attributes).context("encoding attributes for the cache")
}

/// The attributes a stored value holds. A TEXT value is a JSON row left unconverted
/// because it was unreadable: it stays an error, as it was before.
pub fn decode(stored: ValueRef<'_>) -> anyhow::Result<Vec<Attribute>> {
    match stored {
        ValueRef::Blob(bytes) => Ok(postcard::from_bytes(bytes)?),
        ValueRef::Text(_) => anyhow::bail!("it is JSON of an older cache that does not parse"),
        other => anyhow::bail!("it holds a {} value", other.data_type()),
    }
}

/// What converting a cache's JSON rows did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Converted {
    /// Rows rewritten in [`FORMAT`].
    pub rows: u64,
    /// Rows whose JSON did not parse: left as they were (reading them was an error
    /// before and stays one; the next full import replaces them).
    pub unreadable: u64,
}

/// Rewrites every JSON row of the objects table in [`FORMAT`], in key order, one
/// transaction per [`CONVERT_BATCH`] rows. Rows already converted are skipped, so an
/// interrupted conversion resumes where it stopped.
pub fn convert_json_rows(c: &Connection) -> anyhow::Result<Converted> {
    let mut converted = Converted::default();
    let mut after = (String::new(), String::new());
    loop {
        let batch: Vec<(String, String, String)> = c
            .prepare(
                "SELECT object_type, anchor, attributes FROM objects \
                 WHERE (object_type, anchor) > (?1, ?2) AND typeof(attributes) = 'text' \
                 ORDER BY object_type, anchor LIMIT ?3",
            )?
            .query_map(params![after.0, after.1, CONVERT_BATCH as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let Some((object_type, anchor, _)) = batch.last() else {
            return Ok(converted);
        };
        after = (object_type.clone(), anchor.clone());
        let tx = c.unchecked_transaction()?;
        let mut update = tx
            .prepare("UPDATE objects SET attributes = ?3 WHERE object_type = ?1 AND anchor = ?2")?;
        for (object_type, anchor, json) in &batch {
            match serde_json::from_str::<Vec<Attribute>>(json) {
                Ok(attributes) => {
                    update.execute(params![object_type, anchor, encode(&attributes)?])?;
                    converted.rows += 1;
                }
                Err(_) => converted.unreadable += 1,
            }
        }
        drop(update);
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::types::{Datetime, Value};

    fn every_kind_of_value() -> Vec<Attribute> {
        vec![
            Attribute {
                name: "name".into(),
                values: vec![Value::String("Zoë \"quoted\"\n".into())],
            },
            Attribute {
                name: "numbers".into(),
                values: vec![Value::Integer(i64::MIN), Value::Integer(-1)],
            },
            Attribute {
                name: "flags".into(),
                values: vec![Value::Boolean(true), Value::Boolean(false)],
            },
            Attribute {
                name: "photo".into(),
                values: vec![Value::Binary(vec![0, 255, 7])],
            },
            Attribute {
                name: "seen".into(),
                values: vec![Value::Datetime(Datetime {
                    seconds: 1_700_000_000,
                    nanoseconds: 5,
                })],
            },
            Attribute {
                name: "manager".into(),
                values: vec![Value::Reference("42".into())],
            },
            Attribute {
                name: "empty".into(),
                values: vec![],
            },
        ]
    }

    #[test]
    fn every_kind_of_value_survives_encoding() {
        let attributes = every_kind_of_value();
        let stored = encode(&attributes).unwrap();
        assert_eq!(decode(ValueRef::Blob(&stored)).unwrap(), attributes);
        assert!(stored.len() < serde_json::to_string(&attributes).unwrap().len());
    }

    #[test]
    fn text_and_broken_values_are_errors_not_guesses() {
        let json = serde_json::to_string(&every_kind_of_value()).unwrap();
        let err = decode(ValueRef::Text(json.as_bytes())).unwrap_err();
        assert!(err.to_string().contains("older cache"), "{err}");
        assert!(decode(ValueRef::Blob(&[200])).is_err());
        assert!(decode(ValueRef::Null).is_err());
    }

    #[test]
    fn json_rows_are_converted_in_batches_and_unreadable_ones_left() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE objects (object_type TEXT, anchor TEXT, attributes TEXT, \
             PRIMARY KEY (object_type, anchor)) WITHOUT ROWID",
        )
        .unwrap();
        let rows = CONVERT_BATCH + 3;
        for i in 0..rows {
            let mut attributes = every_kind_of_value();
            attributes[0].values = vec![Value::String(format!("user {i}"))];
            let json = serde_json::to_string(&attributes).unwrap();
            c.execute(
                "INSERT INTO objects VALUES ('user', ?1, ?2)",
                params![format!("{i:06}"), json],
            )
            .unwrap();
        }
        c.execute("INSERT INTO objects VALUES ('group', 'x', '{broken')", [])
            .unwrap();
        let done = convert_json_rows(&c).unwrap();
        assert_eq!(
            done,
            Converted {
                rows: rows as u64,
                unreadable: 1
            }
        );
        let stored: Vec<u8> = c
            .query_row(
                "SELECT attributes FROM objects WHERE anchor = '010002'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let attributes = decode(ValueRef::Blob(&stored)).unwrap();
        assert_eq!(attributes[0].values, [Value::String("user 10002".into())]);
        let text: u64 = c
            .query_row(
                "SELECT count(*) FROM objects WHERE typeof(attributes) = 'text'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(text, 1, "only the unreadable row stays JSON");
        assert_eq!(
            convert_json_rows(&c).unwrap(),
            Converted {
                rows: 0,
                unreadable: 1
            },
            "a second run has nothing left but the unreadable row"
        );
    }
}
