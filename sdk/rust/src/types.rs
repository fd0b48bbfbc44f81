//! The contract's data types (`ferry:connector/types`), under one path. Their
//! documentation is the contract's own; the helpers this crate adds (constructors and
//! readers for values, attributes, errors, parameters) are on the types themselves.

pub use crate::bindings::ferry::connector::types::{
    AddChange, Attribute, AttributeChange, AttributeSchema, Change, ChangeResult, ConnectorInfo,
    Datetime, DeltaEntry, DeltaPage, Error, ErrorKind, Features, ImportPage, Object, ObjectRef,
    ObjectTypeSchema, Parameter, ParameterType, RenameChange, Schema, Setting, SettingValue,
    UpdateChange, Value, ValueType,
};

pub use crate::values::find_attribute;
