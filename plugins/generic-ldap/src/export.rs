//! Exports: each change on its own, in order, one result per change; a failed change does
//! not stop the others. Every write is checked against its object type's schema first
//! (unknown and read-only attributes are the IdP's mistake, not the server's), reference
//! values (a group's members, a user's manager) are written as the users' DNs, and every
//! change that leaves an object returns it as read back from the server by its anchor —
//! except a change of a group's members alone, which returns nothing so the host applies
//! it to its copy: a group of 50,000 is neither read nor rewritten.
//!
//! * add: the DN from the type's template, `objectClass` from the configuration, the
//!   given attributes (`userPassword` as given: the initial password), the lock when
//!   `active` is false, and for a group without members the placeholder member when the
//!   group class needs one;
//! * update: one modify (replace / add values / delete values; clear is a replace with no
//!   values, which removes the attribute whether or not it is there). Changes of `active`
//!   become the one modification of the lock attribute that leaves the user in the state
//!   they end in (clear: enabled), none when the user is in it already. When the update
//!   takes away the value an RDN is made of, the entry is first renamed (modrdn) to the
//!   new value, then modified. A group's members change by modifies that add or delete
//!   exactly the values given, idempotently: adding a member already there or removing
//!   one that is not is no error;
//! * rename: modrdn to the new name, a full DN (or a lone RDN, kept under the same parent);
//! * delete: a delete of the object's DN.

use ldap3_proto::proto::{
    LdapAddRequest, LdapAttribute, LdapModify, LdapModifyDNRequest, LdapModifyRequest,
    LdapModifyType, LdapPartialAttribute, LdapResultCode, LdapSearchScope,
};

use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Error, Object, ObjectRef, RenameChange, UpdateChange,
    Value, ValueType,
};

use crate::client::LdapError;
use crate::config::Anchor;
use crate::directory::{present, search_request};
use crate::disable;
use crate::dn::{Ava, Dn, Rdn};
use crate::entries::{Entry, find};
use crate::schema::{AttributeInfo, Members, NO_ATTRIBUTES, OBJECT_CLASS, USER};
use crate::session::{Context, Kind};
use crate::values::{as_text, to_ldap};

/// Adds a user or group; returns it as read back.
pub fn add(context: &Context, change: &AddChange) -> Result<Object, Error> {
    let kind = context.kind(&change.object_type)?;
    add_entry(context, kind, &change.attributes)
}

/// Modifies a user or group; returns it as read back, or `None` when only a group's
/// members changed.
pub fn update(context: &Context, change: &UpdateChange) -> Result<Option<Object>, Error> {
    let kind = context.kind(&change.target.object_type)?;
    let (members, others): (Vec<&AttributeChange>, Vec<&AttributeChange>) = change
        .changes
        .iter()
        .partition(|change| kind.schema.is_members(change.name()));
    let entry = target(
        context,
        kind,
        &change.target,
        &kind.schema.requested_for_change(others.is_empty()),
    )?;
    let dn = if others.is_empty() {
        entry.dn.clone()
    } else {
        modify_entry(context, kind, &entry, &others)?
    };
    if let Some(info) = kind.schema.members() {
        for change in members {
            change_members(context, kind, info, &dn, change)?;
        }
        if others.is_empty() {
            return Ok(None);
        }
    }
    read_back(context, kind, &change.target.anchor).map(Some)
}

/// Renames a user or group; returns it as read back.
pub fn rename(context: &Context, change: &RenameChange) -> Result<Object, Error> {
    let kind = context.kind(&change.target.object_type)?;
    rename_entry(context, kind, change)
}

/// Deletes a user or group.
pub fn delete(context: &Context, target_ref: &ObjectRef) -> Result<(), Error> {
    let kind = context.kind(&target_ref.object_type)?;
    let entry = target(context, kind, target_ref, &[NO_ATTRIBUTES])?;
    context
        .directory
        .write(&format!("deleting '{}'", entry.dn), |client| {
            client.delete(entry.dn.clone())
        })?;
    if kind.scope.object_type == USER {
        context.users.forget(&entry.dn);
    }
    Ok(())
}

/// The object `target` names, as the directory holds it now; `None` when no entry under
/// its type's base DN matching its filter has that anchor.
pub fn read(context: &Context, target: &ObjectRef) -> Result<Option<Object>, Error> {
    let kind = context.kind(&target.object_type)?;
    find(context, kind, &target.anchor, &kind.schema.requested())?
        .map(|entry| entry.to_object(context, kind))
        .transpose()
}

/// The schema entry of an attribute a change writes; unknown and read-only ones are
/// refused, and so are several values for a single-valued one.
fn writable<'a>(kind: Kind<'a>, name: &str, values: &[Value]) -> Result<&'a AttributeInfo, Error> {
    let info = kind.schema.attribute(name).ok_or_else(|| {
        Error::invalid_input(format!(
            "'{name}' is not an attribute of the configured {} object classes",
            kind.scope.object_type
        ))
        .attribute(name)
    })?;
    if info.read_only {
        return Err(Error::invalid_input(format!("'{}' is read-only", info.name)).attribute(name));
    }
    if !info.multi_valued && values.len() > 1 {
        return Err(Error::invalid_input(format!(
            "'{}' is single-valued; {} values were given",
            info.name,
            values.len()
        ))
        .attribute(name));
    }
    Ok(info)
}

/// Whether an anchor of no user is an error (adds, replaces) or changes nothing
/// (removals: a user who is gone is in no group).
#[derive(Clone, Copy, PartialEq)]
enum Unknown {
    Refused,
    Skipped,
}

/// The bytes the directory stores for `values` of `info`: a reference's anchor becomes
/// the DN of the user it names.
fn ldap_values(
    context: &Context,
    info: &AttributeInfo,
    values: &[Value],
    unknown: Unknown,
) -> Result<Vec<Vec<u8>>, Error> {
    if info.value_type != ValueType::Reference {
        return Ok(values.iter().map(to_ldap).collect());
    }
    let anchors = values
        .iter()
        .map(|value| match value {
            Value::Reference(anchor) | Value::String(anchor) => Ok(anchor.as_str()),
            _ => Err(Error::invalid_input(format!(
                "'{}' holds references to users: their anchors",
                info.name
            ))
            .attribute(&info.name)),
        })
        .collect::<Result<Vec<&str>, Error>>()?;
    let dns = context.users.dns_of(context, &anchors)?;
    let mut written = Vec::with_capacity(anchors.len());
    for anchor in anchors {
        match dns.get(anchor) {
            Some(dn) => written.push(dn.as_bytes().to_vec()),
            None if unknown == Unknown::Skipped => {}
            None => {
                return Err(Error::invalid_input(format!(
                    "'{}': there is no user '{anchor}' under '{}' matching the user filter",
                    info.name,
                    context.user_kind().scope.base_dn
                ))
                .attribute(&info.name));
            }
        }
    }
    Ok(written)
}

/// The placeholder member, for a group class that needs a member and would have none.
fn placeholder(context: &Context, members: &Members, dn: &str) -> Result<Vec<u8>, Error> {
    context
        .config
        .groups
        .as_ref()
        .and_then(|groups| groups.placeholder.as_ref())
        .map(|placeholder| placeholder.as_bytes().to_vec())
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "'{dn}' would have no '{}', which its group class requires; set \
                 group-placeholder-member to keep such groups",
                members.name
            ))
            .attribute(&members.name)
        })
}

fn add_entry(context: &Context, kind: Kind, attributes: &[Attribute]) -> Result<Object, Error> {
    let scope = kind.scope;
    let mut written: Vec<LdapAttribute> = vec![LdapAttribute {
        atype: OBJECT_CLASS.to_owned(),
        vals: scope
            .object_classes
            .iter()
            .map(|class| class.as_bytes().to_vec())
            .collect(),
    }];
    let mut given: Vec<&str> = Vec::with_capacity(attributes.len());
    let mut active = true;
    for attribute in attributes {
        let info = writable(kind, &attribute.name, &attribute.values)?;
        if given.contains(&info.name.as_str()) {
            return Err(
                Error::invalid_input(format!("'{}' is given twice", info.name))
                    .attribute(&attribute.name),
            );
        }
        given.push(&info.name);
        if kind.schema.active(&info.name).is_some() {
            active = disable::wanted(&attribute.values)?;
        } else if !attribute.values.is_empty() {
            written.push(LdapAttribute {
                atype: info.name.clone(),
                vals: ldap_values(context, info, &attribute.values, Unknown::Refused)?,
            });
        }
    }
    if let Some(disabling) = kind.schema.disabling().filter(|_| !active) {
        disabling.disable_new(&mut written);
    }
    let dn = scope
        .dn_template
        .expand(&scope.base_dn.to_string(), |name| {
            attributes
                .iter()
                .find(|attribute| {
                    kind.schema
                        .attribute(&attribute.name)
                        .zip(kind.schema.attribute(name))
                        .is_some_and(|(given, wanted)| given.name == wanted.name)
                })
                .and_then(|attribute| attribute.values.first())
                .and_then(as_text)
        })
        .map_err(Error::invalid_input)?;
    if let Some(members) = kind.schema.members().filter(|members| members.required)
        && !written
            .iter()
            .any(|attribute| attribute.atype == members.name)
    {
        written.push(LdapAttribute {
            atype: members.name.clone(),
            vals: vec![placeholder(context, members, &dn)?],
        });
    }
    let request = LdapAddRequest {
        dn: dn.clone(),
        attributes: written,
    };
    context
        .directory
        .write(&format!("adding '{dn}'"), |client| {
            client.add(request.clone())
        })?;
    read_back_at(context, kind, &dn)
}

/// A new entry, read back at its DN (the anchor is learnt here).
fn read_back_at(context: &Context, kind: Kind, dn: &str) -> Result<Object, Error> {
    let request = search_request(
        dn,
        LdapSearchScope::Base,
        present(OBJECT_CLASS),
        &kind.schema.requested(),
    );
    let entry = context
        .directory
        .search(&format!("reading back '{dn}'"), &request)?
        .pop()
        .ok_or_else(|| Error::internal(format!("'{dn}' was added but cannot be read back")))?;
    remembered(context, kind, &entry)
}

/// A changed object, read back by its anchor.
fn read_back(context: &Context, kind: Kind, anchor: &str) -> Result<Object, Error> {
    let entry = find(context, kind, anchor, &kind.schema.requested())?.ok_or_else(|| {
        Error::not_found(format!(
            "{} '{anchor}' was changed but no longer matches its filter under its base DN",
            kind.scope.object_type
        ))
    })?;
    remembered(context, kind, &entry)
}

/// `entry` as an object; a user's DN is noted in the session's index of users.
fn remembered(context: &Context, kind: Kind, entry: &Entry) -> Result<Object, Error> {
    let object = entry.to_object(context, kind)?;
    if kind.scope.object_type == USER {
        context.users.note(&entry.dn, &object.anchor);
    }
    Ok(object)
}

/// The object a change targets, with `attributes`.
fn target(
    context: &Context,
    kind: Kind,
    target: &ObjectRef,
    attributes: &[&str],
) -> Result<Entry, Error> {
    find(context, kind, &target.anchor, attributes)?.ok_or_else(|| {
        Error::not_found(format!(
            "there is no {} '{}' under '{}' matching its filter",
            kind.scope.object_type, target.anchor, kind.scope.base_dn
        ))
    })
}

fn parse_dn(dn: &str) -> Result<Dn, Error> {
    Dn::parse(dn)
        .map_err(|why| Error::internal(format!("the server's DN '{dn}' does not parse: {why}")))
}

/// Applies `changes` (none of a group's members) to `entry`; returns its DN after them.
fn modify_entry(
    context: &Context,
    kind: Kind,
    entry: &Entry,
    changes: &[&AttributeChange],
) -> Result<String, Error> {
    let disabling = kind.schema.disabling();
    let mut active = disabling.is_none_or(|disabling| disabling.is_active(entry));
    let mut modifications = Vec::new();
    for change in changes {
        let (operation, unknown) = match change {
            AttributeChange::AddValues(_) => (LdapModifyType::Add, Unknown::Refused),
            AttributeChange::RemoveValues(_) => (LdapModifyType::Delete, Unknown::Skipped),
            // A clear is a replace with no values: it removes the attribute, and is no
            // error when it is already absent (a delete of an absent attribute would be).
            AttributeChange::Replace(_) | AttributeChange::Clear(_) => {
                (LdapModifyType::Replace, Unknown::Refused)
            }
        };
        let (name, values) = (change.name(), change.values());
        let info = writable(kind, name, values)?;
        if kind.schema.active(&info.name).is_some() {
            active = disable::after(&operation, values, active)?;
            continue;
        }
        let vals = ldap_values(context, info, values, unknown)?;
        // Adding or removing no values changes nothing (and a delete with no values would
        // remove every value).
        if vals.is_empty() && operation != LdapModifyType::Replace {
            continue;
        }
        modifications.push(LdapModify {
            operation,
            modification: LdapPartialAttribute {
                atype: info.name.clone(),
                vals,
            },
        });
    }
    if let Some(disabling) = disabling {
        modifications.extend(disabling.modification(entry, active));
    }
    let current = parse_dn(&entry.dn)?;
    let mut dn = entry.dn.clone();
    if let Some(new_rdn) = renamed_rdn(kind, entry, &current, &modifications)? {
        if context.config.anchor == Anchor::Dn {
            return Err(Error::unsupported(format!(
                "the update changes the RDN of '{dn}', which would change its anchor \
                 (anchor = \"dn\")"
            )));
        }
        let new_dn = current.parent().child(new_rdn.clone()).to_string();
        let request = LdapModifyDNRequest {
            dn: dn.clone(),
            newrdn: new_rdn.to_string(),
            deleteoldrdn: true,
            new_superior: None,
        };
        context
            .directory
            .write(&format!("renaming '{dn}' to '{new_rdn}'"), |client| {
                client.modify_dn(request.clone())
            })?;
        if kind.scope.object_type == USER {
            context.users.forget(&dn);
        }
        // The modrdn removed the old RDN values: removing them again would fail.
        for modification in &mut modifications {
            if modification.operation == LdapModifyType::Delete {
                modification.modification.vals.retain(|value| {
                    !current.rdns[0].avas.iter().any(|ava| {
                        ava.attribute
                            .eq_ignore_ascii_case(&modification.modification.atype)
                            && same_text(value, &ava.value)
                    })
                });
            }
        }
        modifications.retain(|modification| {
            modification.operation != LdapModifyType::Delete
                || !modification.modification.vals.is_empty()
        });
        dn = new_dn;
    }
    if !modifications.is_empty() {
        let request = LdapModifyRequest {
            dn: dn.clone(),
            changes: modifications,
        };
        context
            .directory
            .write(&format!("modifying '{dn}'"), |client| {
                client.modify(request.clone())
            })?;
    }
    Ok(dn)
}

/// Applies one change of the members of the group at `dn`: added and removed members
/// are single values added or deleted, never the list rewritten.
fn change_members(
    context: &Context,
    kind: Kind,
    members: &Members,
    dn: &str,
    change: &AttributeChange,
) -> Result<(), Error> {
    let info = writable(kind, change.name(), change.values())?;
    match change {
        AttributeChange::AddValues(added) => {
            let values = ldap_values(context, info, &added.values, Unknown::Refused)?;
            if values.is_empty() {
                return Ok(());
            }
            edit_values(context, dn, LdapModifyType::Add, &info.name, values)?;
            // The placeholder made way for a real member.
            if members.required
                && let Some(groups) = &context.config.groups
                && let Some(placeholder) = &groups.placeholder
            {
                edit_values(
                    context,
                    dn,
                    LdapModifyType::Delete,
                    &info.name,
                    vec![placeholder.as_bytes().to_vec()],
                )?;
            }
            Ok(())
        }
        AttributeChange::RemoveValues(removed) => {
            let values = ldap_values(context, info, &removed.values, Unknown::Skipped)?;
            if values.is_empty()
                || edit_values(
                    context,
                    dn,
                    LdapModifyType::Delete,
                    &info.name,
                    values.clone(),
                )?
            {
                return Ok(());
            }
            // The last member: the placeholder goes in first, then the members go.
            let kept = placeholder(context, members, dn)?;
            edit_values(context, dn, LdapModifyType::Add, &info.name, vec![kept])?;
            edit_values(context, dn, LdapModifyType::Delete, &info.name, values)?;
            Ok(())
        }
        AttributeChange::Replace(_) | AttributeChange::Clear(_) => {
            let mut values = ldap_values(context, info, change.values(), Unknown::Refused)?;
            if values.is_empty() && members.required {
                values.push(placeholder(context, members, dn)?);
            }
            modify(
                context,
                dn,
                vec![LdapModify {
                    operation: LdapModifyType::Replace,
                    modification: LdapPartialAttribute {
                        atype: info.name.clone(),
                        vals: values,
                    },
                }],
                &[],
            )?;
            Ok(())
        }
    }
}

/// Adds or deletes single values of `attribute` of the entry at `dn`, idempotently: a
/// value already there (add) or not there (delete) is no error. All values go in one
/// modify; when the server refuses it for such a value, each goes in one of its own.
/// False when the server refused a delete because the entry's class needs a value and
/// none would be left.
fn edit_values(
    context: &Context,
    dn: &str,
    operation: LdapModifyType,
    attribute: &str,
    values: Vec<Vec<u8>>,
) -> Result<bool, Error> {
    let harmless = match operation {
        LdapModifyType::Add => LdapResultCode::AttributeOrValueExists,
        _ => LdapResultCode::NoSuchAttribute,
    };
    let tolerated = [harmless.clone(), LdapResultCode::ObjectClassViolation];
    let edit = |values: Vec<Vec<u8>>| {
        vec![LdapModify {
            operation: operation.clone(),
            modification: LdapPartialAttribute {
                atype: attribute.to_owned(),
                vals: values,
            },
        }]
    };
    let several = values.len() > 1;
    match modify(context, dn, edit(values.clone()), &tolerated)? {
        None => return Ok(true),
        Some(LdapResultCode::ObjectClassViolation) => return Ok(false),
        Some(_) if !several => return Ok(true),
        Some(_) => {}
    }
    for value in values {
        if modify(context, dn, edit(vec![value]), &tolerated)?
            == Some(LdapResultCode::ObjectClassViolation)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One modify of the entry at `dn`; a refusal with a result code in `tolerated` is
/// returned as that code instead of an error.
fn modify(
    context: &Context,
    dn: &str,
    changes: Vec<LdapModify>,
    tolerated: &[LdapResultCode],
) -> Result<Option<LdapResultCode>, Error> {
    let request = LdapModifyRequest {
        dn: dn.to_owned(),
        changes,
    };
    context
        .directory
        .write(&format!("modifying '{dn}'"), |client| {
            match client.modify(request.clone()) {
                Ok(()) => Ok(None),
                Err(LdapError::Refused(result)) if tolerated.contains(&result.code) => {
                    Ok(Some(result.code))
                }
                Err(failure) => Err(failure),
            }
        })
}

/// The RDN the entry must take when the modifications remove a value its RDN is made of;
/// none when the RDN survives them.
fn renamed_rdn(
    kind: Kind,
    entry: &Entry,
    current: &Dn,
    modifications: &[LdapModify],
) -> Result<Option<Rdn>, Error> {
    let Some(rdn) = current.rdns.first() else {
        return Ok(None);
    };
    let mut renamed = false;
    let mut avas = Vec::with_capacity(rdn.avas.len());
    for ava in &rdn.avas {
        let canonical = kind
            .schema
            .attribute(&ava.attribute)
            .map_or(ava.attribute.as_str(), |info| info.name.as_str());
        let touching: Vec<&LdapModify> = modifications
            .iter()
            .filter(|modification| modification.modification.atype == canonical)
            .collect();
        if touching.is_empty() {
            avas.push(ava.clone());
            continue;
        }
        let mut values: Vec<Vec<u8>> = entry.values(canonical).to_vec();
        for modification in touching {
            let given = &modification.modification.vals;
            match modification.operation {
                LdapModifyType::Replace => values = given.clone(),
                LdapModifyType::Add => values.extend(given.iter().cloned()),
                LdapModifyType::Delete => values.retain(|value| {
                    !given.iter().any(|removed| {
                        std::str::from_utf8(removed).is_ok_and(|text| same_text(value, text))
                    })
                }),
                LdapModifyType::Increment => {}
            }
        }
        if values.iter().any(|value| same_text(value, &ava.value)) {
            avas.push(ava.clone());
            continue;
        }
        let Some(first) = values.first() else {
            return Err(Error::invalid_input(format!(
                "'{canonical}' names the entry '{}'; it cannot be removed",
                entry.dn
            ))
            .attribute(canonical));
        };
        let value = String::from_utf8(first.clone()).map_err(|_| {
            Error::invalid_input(format!(
                "a new '{canonical}' that names an entry must be text"
            ))
            .attribute(canonical)
        })?;
        renamed = true;
        avas.push(Ava {
            attribute: ava.attribute.clone(),
            value,
        });
    }
    Ok(renamed.then_some(Rdn { avas }))
}

/// Whether a stored value is the text `text`, compared without regard to case as the
/// usual naming attributes (uid, cn) match.
fn same_text(value: &[u8], text: &str) -> bool {
    std::str::from_utf8(value).is_ok_and(|value| value.to_lowercase() == text.to_lowercase())
}

fn rename_entry(context: &Context, kind: Kind, rename: &RenameChange) -> Result<Object, Error> {
    if context.config.anchor == Anchor::Dn {
        return Err(Error::unsupported(
            "renaming would change the anchor (anchor = \"dn\"); use anchor = \"entryUUID\"",
        ));
    }
    let entry = target(context, kind, &rename.target, &[NO_ATTRIBUTES])?;
    let wanted = Dn::parse(&rename.new_name).map_err(|why| {
        Error::invalid_input(format!(
            "the new name '{}' is not a DN: {why}",
            rename.new_name
        ))
    })?;
    let current = parse_dn(&entry.dn)?;
    let (new_rdn, new_parent) = match wanted.rdns.len() {
        0 => return Err(Error::invalid_input("the new name is empty")),
        1 => (wanted.rdns[0].clone(), current.parent()),
        _ => (wanted.rdns[0].clone(), wanted.parent()),
    };
    let new_dn = new_parent.child(new_rdn.clone());
    if !new_dn.is_within(&kind.scope.base_dn) {
        return Err(Error::invalid_input(format!(
            "'{new_dn}' is not under the base DN '{}'",
            kind.scope.base_dn
        )));
    }
    let request = LdapModifyDNRequest {
        dn: entry.dn.clone(),
        newrdn: new_rdn.to_string(),
        deleteoldrdn: true,
        new_superior: (!new_parent.matches(&current.parent())).then(|| new_parent.to_string()),
    };
    context.directory.write(
        &format!("renaming '{}' to '{new_dn}'", entry.dn),
        |client| client.modify_dn(request.clone()),
    )?;
    if kind.scope.object_type == USER {
        context.users.forget(&entry.dn);
    }
    read_back(context, kind, &rename.target.anchor)
}
