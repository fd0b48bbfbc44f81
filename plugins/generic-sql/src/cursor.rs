//! The opaque strings the host keeps between calls: the full-import cursor and the delta
//! watermark. Both are JSON holding database values exactly as read, so that binding them
//! back compares like the database compares (an integer stays an integer, stored text
//! stays the same text).

use std::collections::BTreeMap;

use ferry_connector::cursor::Format;
use ferry_connector::sql::SqlValue;
use ferry_connector::types::{Datetime, Error};
use serde::{Deserialize, Serialize};

use crate::anchor::Key;

/// A non-NULL database value kept in a cursor or watermark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredValue {
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// A truth value.
    Boolean(bool),
    /// Bytes.
    Blob(Vec<u8>),
    /// A timestamp, as the host's driver read it.
    Timestamp {
        /// Seconds since the epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanoseconds: u32,
    },
}

impl StoredValue {
    /// Keeps a value read from the database; NULL keeps nothing.
    pub fn keep(value: &SqlValue) -> Option<Self> {
        Some(match value {
            SqlValue::Null => return None,
            SqlValue::Integer(number) => Self::Integer(*number),
            SqlValue::Real(number) => Self::Real(*number),
            SqlValue::Text(text) => Self::Text(text.clone()),
            SqlValue::Boolean(flag) => Self::Boolean(*flag),
            SqlValue::Blob(bytes) => Self::Blob(bytes.clone()),
            SqlValue::Timestamp(at) => Self::Timestamp {
                seconds: at.seconds,
                nanoseconds: at.nanoseconds,
            },
        })
    }

    /// The value to bind.
    pub fn to_sql(&self) -> SqlValue {
        match self {
            Self::Integer(number) => SqlValue::Integer(*number),
            Self::Real(number) => SqlValue::Real(*number),
            Self::Text(text) => SqlValue::Text(text.clone()),
            Self::Boolean(flag) => SqlValue::Boolean(*flag),
            Self::Blob(bytes) => SqlValue::Blob(bytes.clone()),
            Self::Timestamp {
                seconds,
                nanoseconds,
            } => SqlValue::Timestamp(Datetime {
                seconds: *seconds,
                nanoseconds: *nanoseconds,
            }),
        }
    }
}

/// A key (the values of the anchor columns) kept in a cursor or watermark. A one-column
/// key is written as the lone value, as earlier builds wrote it, so their watermarks still
/// read; a composite key as the list of its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredKey {
    /// The value of a one-column key.
    One(StoredValue),
    /// The values of a composite key, in anchor order.
    Composite(Vec<StoredValue>),
}

impl StoredKey {
    /// Keeps a key read from the database; a key with a NULL part keeps nothing.
    pub fn keep(key: &[SqlValue]) -> Option<Self> {
        let mut parts = key
            .iter()
            .map(StoredValue::keep)
            .collect::<Option<Vec<_>>>()?;
        Some(match parts.len() {
            1 => Self::One(parts.remove(0)),
            _ => Self::Composite(parts),
        })
    }

    /// The key to bind, refused with `invalid-input` when it has not `width` parts: it
    /// was kept under a configuration with another anchor.
    pub fn to_key(&self, width: usize) -> Result<Key, Error> {
        let parts = match self {
            Self::One(value) => std::slice::from_ref(value),
            Self::Composite(values) => values.as_slice(),
        };
        if parts.len() != width {
            return Err(Error::invalid_input(
                "the position was kept for an anchor of another number of columns; \
                 start a full import",
            ));
        }
        Ok(parts.iter().map(StoredValue::to_sql).collect())
    }
}

/// Where a full import stands: the object type being read, the last anchor read of it,
/// and the delta watermark taken when the import began, handed over on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportCursor {
    /// The name of the object type being read (a name, not an index, so a changed
    /// configuration is noticed rather than misread).
    pub object_type: String,
    /// The key of the last object returned of that type; none at its start.
    pub after: Option<StoredKey>,
    /// Where delta imports start once this import completes; none when no object type
    /// can be delta-imported.
    pub watermark: Option<DeltaWatermark>,
}

/// Where delta imports stand, per object type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaWatermark {
    /// The position of each object type that has a delta source, by name.
    pub types: BTreeMap<String, Position>,
}

/// How far one object type's changes have been read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// Through this change-table sequence value; none for "from the first change".
    Sequence(Option<StoredValue>),
    /// Through this watermark value, and within it through this anchor. Without an
    /// anchor, rows at the watermark value itself are read again (the hand-over from a
    /// full import); without a value, every row with a watermark is read.
    Watermark {
        /// The last watermark value read.
        last: Option<StoredValue>,
        /// The key of the last row read at `last`.
        anchor: Option<StoredKey>,
    },
}

/// How both are written: tagged `generic-sql/1`, so a string from another connector or
/// an older format is refused instead of misread.
const FORMAT: Format = Format::new("generic-sql", 1);

impl ImportCursor {
    /// The opaque `next-cursor` string.
    pub fn encode(&self) -> String {
        FORMAT.encode(self)
    }

    /// Reads a cursor this connector returned; `invalid-input` for anything else.
    pub fn decode(text: &str) -> Result<Self, Error> {
        FORMAT.decode(text, "cursor")
    }
}

impl DeltaWatermark {
    /// The opaque watermark string.
    pub fn encode(&self) -> String {
        FORMAT.encode(self)
    }

    /// Reads a watermark this connector returned; `invalid-input` for anything else.
    pub fn decode(text: &str) -> Result<Self, Error> {
        FORMAT.decode(text, "watermark")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_exactly() {
        let values = [
            SqlValue::Integer(-5),
            SqlValue::Real(0.1),
            SqlValue::Text("2024-05-01 12:00:00'\"😀\0".into()),
            SqlValue::Boolean(true),
            SqlValue::Blob(vec![0, 1, 255]),
            SqlValue::Timestamp(Datetime {
                seconds: -1,
                nanoseconds: 999,
            }),
        ];
        for value in values {
            assert_eq!(StoredValue::keep(&value).unwrap().to_sql(), value);
        }
        assert_eq!(StoredValue::keep(&SqlValue::Null), None);
    }

    #[test]
    fn cursors_and_watermarks_round_trip() {
        let mut watermark = DeltaWatermark::default();
        watermark.types.insert(
            "group".into(),
            Position::Sequence(Some(StoredValue::Integer(17))),
        );
        watermark.types.insert(
            "user".into(),
            Position::Watermark {
                last: Some(StoredValue::Text("2024-05-01 12:00:00".into())),
                anchor: None,
            },
        );
        assert_eq!(
            DeltaWatermark::decode(&watermark.encode()),
            Ok(watermark.clone())
        );
        let cursor = ImportCursor {
            object_type: "user".into(),
            after: Some(StoredKey::One(StoredValue::Integer(100))),
            watermark: Some(watermark),
        };
        assert_eq!(ImportCursor::decode(&cursor.encode()), Ok(cursor.clone()));
        let composite = ImportCursor {
            after: StoredKey::keep(&[SqlValue::Text("acme".into()), SqlValue::Integer(3)]),
            ..cursor
        };
        assert_eq!(ImportCursor::decode(&composite.encode()), Ok(composite));
    }

    #[test]
    fn a_one_column_key_is_written_as_before() {
        let earlier = r#"{"v":"generic-sql/1","types":{"user":{"watermark":{"last":{"integer":5},"anchor":{"text":"ann"}}}}}"#;
        let watermark = DeltaWatermark::decode(earlier).unwrap();
        let Position::Watermark {
            anchor: Some(anchor),
            ..
        } = &watermark.types["user"]
        else {
            panic!("{watermark:?}");
        };
        assert_eq!(anchor.to_key(1), Ok(vec![SqlValue::Text("ann".into())]));
        assert_eq!(
            anchor.to_key(2).unwrap_err().kind,
            ferry_connector::ErrorKind::InvalidInput
        );
        assert_eq!(watermark.encode(), earlier);
        assert_eq!(StoredKey::keep(&[SqlValue::Null]), None);
    }

    #[test]
    fn reads_its_own_format_and_no_other() {
        // Watermarks the host persisted from earlier builds must still read.
        assert_eq!(
            DeltaWatermark::decode(r#"{"v":"generic-sql/1","types":{}}"#),
            Ok(DeltaWatermark::default())
        );
        for text in [
            r#"{"v":"generic-sql/0","types":{}}"#,
            r#"{"v":"generic-ldap/1","types":{}}"#,
            r#"{"v":"generic-sql/1"}"#,
        ] {
            let failure = ImportCursor::decode(text).unwrap_err();
            assert!(
                failure.message.contains("generic-sql; start a full import"),
                "{text}: {}",
                failure.message
            );
        }
    }
}
