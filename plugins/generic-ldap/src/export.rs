//! Exports: each change on its own, in order, one result per change; a failed change does
//! not stop the others. Every write is checked against its object type's schema first
//! (unknown and read-only attributes are the IdP's mistake, not the server's), reference
//! values (a group's members, a user's manager) are written as the DNs of the objects
//! they name (users, and groups when groups nest), and every
//! change that leaves an object returns it as read back from the server by its anchor —
//! except a change of a group's members alone, which returns nothing so the host applies
//! it to its copy: a group of 50,000 is neither read nor rewritten. An add is read back in
//! the same round trip: it asks for the new entry with the Post-Read control (RFC 4527),
//! and searches for it only when the server does not send it. Updates keep their
//! read-back search: it also checks that the object still matches its type's filter,
//! which the entry as written cannot tell, and it follows the member changes that come
//! after the modify.
//!
//! * add: the DN from the type's template, `objectClass` from the configuration, the
//!   given attributes (`userPassword` as given: the initial password), the values of the
//!   DN's RDN when the add does not carry them (LDAP requires an entry to hold them: with
//!   `cn={givenName} {sn}` the entry gets that `cn` too), the lock when `active` is
//!   false, and for a group without members the placeholder member when the group class
//!   needs one;
//! * update: one modify (replace / add values / delete values; clear is a replace with no
//!   values, which removes the attribute whether or not it is there). Changes of `active`
//!   become the one modification of the lock attribute that leaves the user in the state
//!   they end in (clear: enabled), none when the user is in it already. A new password
//!   (`userPassword`, secret) is a replace like any other and never appears in a message.
//!   When the update changes an attribute the type's DN template is built from, and the
//!   entry has the template's shape, the template is expanded again with the values the
//!   update leaves (keeping the current DN when some choice of several values still makes
//!   it): a new leaf RDN, recomputed whole (`cn={givenName} {sn}` from the new names, every
//!   AVA of `uid={uid}+employeeNumber={employeeNumber}`), and a new parent
//!   (`ou={departmentNumber}`) become one modrdn with newSuperior, before the modify; a
//!   new parent that does not exist is refused before anything is written. An entry named
//!   otherwise keeps its parent and is renamed only when the update takes away the value
//!   its RDN holds. Either way the entry keeps its RDN's values: a replace that leaves
//!   them out keeps them. A group's members change by modifies that add or delete
//!   exactly the values given, idempotently: adding a member already there or removing
//!   one that is not is no error;
//! * rename: modrdn to the new name, a full DN (or a lone RDN, kept under the same parent);
//! * delete: a delete of the object's DN.

use ldap3_proto::proto::{
    LdapAddRequest, LdapAttribute, LdapModify, LdapModifyDNRequest, LdapModifyRequest,
    LdapModifyType, LdapPartialAttribute, LdapResultCode, LdapSearchScope,
};

use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Error, ErrorKind, Object, ObjectRef, RenameChange,
    UpdateChange, Value, ValueType,
};

use crate::client::LdapError;
use crate::config::Anchor;
use crate::directory::{present, search_request};
use crate::disable;
use crate::dn::{Ava, Dn, Rdn};
use crate::entries::{Entry, find};
use crate::schema::{AttributeInfo, Members, NO_ATTRIBUTES, OBJECT_CLASS};
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
    context.references.forget(&entry.dn);
    Ok(())
}

/// The object `target` names, as the directory holds it now; `None` when no entry under
/// its type's base DN matching its filter has that anchor.
pub fn read(context: &Context, target: &ObjectRef) -> Result<Option<Object>, Error> {
    let kind = context.kind(&target.object_type)?;
    find(context, kind, &target.anchor, &kind.schema.requested())?
        .map(|entry| entry.into_object(context, kind))
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
/// the DN of the object it names.
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
                "'{}' holds references to {}s: their anchors",
                info.name,
                info.reference_types.join(" or ")
            ))
            .attribute(&info.name)),
        })
        .collect::<Result<Vec<&str>, Error>>()?;
    let dns = context
        .references
        .dns_of(context, &anchors, &info.reference_types)?;
    let mut written = Vec::with_capacity(anchors.len());
    for anchor in anchors {
        match dns.get(anchor) {
            Some(dn) => written.push(dn.as_bytes().to_vec()),
            None if unknown == Unknown::Skipped => {}
            None => {
                return Err(Error::invalid_input(format!(
                    "'{}': there is no {} '{anchor}' (under its base DN, matching its filter)",
                    info.name,
                    info.reference_types.join(" or ")
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
    let named = scope
        .dn_template
        .name(&scope.base_dn.to_string(), None, |name| {
            attributes
                .iter()
                .find(|attribute| canonical(kind, &attribute.name) == canonical(kind, name))
                .map(|attribute| attribute.values.iter().filter_map(as_text).collect())
                .unwrap_or_default()
        })
        .map_err(|why| Error::invalid_input(format!("{why}, and the add has none")))?;
    with_rdn_values(kind, &mut written, &named.rdns[0])?;
    let dn = named.to_string();
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
    let read = kind.schema.requested();
    let added = context
        .directory
        .write(&format!("adding '{dn}'"), |client| {
            client.add(request.clone(), &read)
        })?;
    match added {
        // The entry as the add left it, with the attributes a read-back asks for.
        Some(entry) => remembered(context, kind, Entry::from(entry)),
        None => read_back_at(context, kind, &dn),
    }
}

/// A new entry, read back at its DN (the anchor is learnt here): for a server that did
/// not return it with the add.
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
    remembered(context, kind, entry)
}

/// A changed object, read back by its anchor.
fn read_back(context: &Context, kind: Kind, anchor: &str) -> Result<Object, Error> {
    let entry = find(context, kind, anchor, &kind.schema.requested())?.ok_or_else(|| {
        Error::not_found(format!(
            "{} '{anchor}' was changed but no longer matches its filter under its base DN",
            kind.scope.object_type
        ))
    })?;
    remembered(context, kind, entry)
}

/// `entry` as an object; its DN is noted in the session's index of references.
fn remembered(context: &Context, kind: Kind, entry: Entry) -> Result<Object, Error> {
    let dn = entry.dn.clone();
    let object = entry.into_object(context, kind)?;
    context.references.note(context, kind, &dn, &object.anchor);
    Ok(object)
}

/// The name the schema of `kind` gives the attribute `name` (any alias or OID); `name`
/// itself for an attribute it does not know.
fn canonical(kind: Kind, name: &str) -> String {
    kind.schema
        .attribute(name)
        .map_or_else(|| name.to_owned(), |info| info.name.clone())
}

/// Adds the values of `rdn` to the attributes of a new entry that lack them: LDAP
/// requires an entry to hold its RDN's values. A single-valued attribute given another
/// value is refused.
fn with_rdn_values(kind: Kind, written: &mut Vec<LdapAttribute>, rdn: &Rdn) -> Result<(), Error> {
    for ava in &rdn.avas {
        let name = canonical(kind, &ava.attribute);
        let value = ava.value.as_bytes().to_vec();
        let multi_valued = kind
            .schema
            .attribute(&name)
            .is_none_or(|info| info.multi_valued);
        match written.iter_mut().find(|given| given.atype == name) {
            Some(given) if given.vals.iter().any(|held| same_text(held, &ava.value)) => {}
            Some(given) if multi_valued => given.vals.push(value),
            Some(_) => {
                return Err(Error::invalid_input(format!(
                    "'{name}' is single-valued and the DN template names the entry by another \
                     value of it"
                ))
                .attribute(&name));
            }
            None => written.push(LdapAttribute {
                atype: name,
                vals: vec![value],
            }),
        }
    }
    Ok(())
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
    let named = match new_name(kind, entry, &current, &modifications)? {
        Some(new_dn) => {
            if context.config.anchor == Anchor::Dn {
                return Err(Error::unsupported(format!(
                    "the update changes the DN of '{}', which would change its anchor \
                     (anchor = \"dn\")",
                    entry.dn
                )));
            }
            move_entry(context, &entry.dn, &current, &new_dn)?;
            new_dn
        }
        None => current.clone(),
    };
    fit_to_rdn(kind, &mut modifications, &current.rdns[0], &named.rdns[0]);
    let dn = named.to_string();
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

/// Renames the entry at `dn` (now `current`) to `new_dn` with one modrdn, which moves
/// it too (newSuperior) when the parent changes. A new parent that does not exist is
/// refused before anything is written.
fn move_entry(context: &Context, dn: &str, current: &Dn, new_dn: &Dn) -> Result<(), Error> {
    let parent = new_dn.parent();
    let moved = !parent.matches(&current.parent());
    if moved && !exists(context, &parent)? {
        return Err(Error::invalid_input(format!(
            "cannot move '{dn}' to '{new_dn}': its new parent '{parent}' does not exist"
        )));
    }
    let request = LdapModifyDNRequest {
        dn: dn.to_owned(),
        newrdn: new_dn.rdns[0].to_string(),
        deleteoldrdn: true,
        new_superior: moved.then(|| parent.to_string()),
    };
    context
        .directory
        .write(&format!("renaming '{dn}' to '{new_dn}'"), |client| {
            client.modify_dn(request.clone())
        })?;
    context.references.forget(dn);
    Ok(())
}

/// Whether the entry `dn` exists.
fn exists(context: &Context, dn: &Dn) -> Result<bool, Error> {
    let request = search_request(
        &dn.to_string(),
        LdapSearchScope::Base,
        present(OBJECT_CLASS),
        &[NO_ATTRIBUTES],
    );
    match context
        .directory
        .search(&format!("reading '{dn}'"), &request)
    {
        Ok(found) => Ok(!found.is_empty()),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// The DN the entry must take after `modifications`; none when its name stays. An
/// entry of the template's shape is named by the template from the values the
/// modifications leave, when they change an attribute it is built from; an entry named
/// otherwise keeps its parent and takes a new RDN when they remove a value it holds.
fn new_name(
    kind: Kind,
    entry: &Entry,
    current: &Dn,
    modifications: &[LdapModify],
) -> Result<Option<Dn>, Error> {
    let template = &kind.scope.dn_template;
    let base = kind.scope.base_dn.to_string();
    if !template.fits(&base, current) {
        return Ok(renamed_rdn(kind, entry, current, modifications)?
            .map(|rdn| current.parent().child(rdn)));
    }
    let touched = template.attributes().any(|name| {
        let name = canonical(kind, name);
        modifications
            .iter()
            .any(|modification| modification.modification.atype == name)
    });
    if !touched {
        return Ok(None);
    }
    let wanted = template
        .name(&base, Some(current), |name| {
            after(kind, entry, name, modifications)
                .into_iter()
                .filter_map(|value| String::from_utf8(value).ok())
                .collect()
        })
        .map_err(|why| {
            Error::invalid_input(format!(
                "the update leaves '{}' without a name: {why}",
                entry.dn
            ))
        })?;
    Ok((!wanted.matches(current)).then_some(wanted))
}

/// The values of the attribute `name` of `entry` once `modifications` are applied.
fn after(kind: Kind, entry: &Entry, name: &str, modifications: &[LdapModify]) -> Vec<Vec<u8>> {
    let name = canonical(kind, name);
    let mut values: Vec<Vec<u8>> = entry.values(&name).to_vec();
    for modification in modifications
        .iter()
        .filter(|modification| modification.modification.atype == name)
    {
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
    values
}

/// The RDN an entry named otherwise than by its template must take when the
/// modifications remove a value its RDN is made of; none when the RDN survives them.
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
        let values = after(kind, entry, &ava.attribute, modifications);
        if values.iter().any(|value| same_text(value, &ava.value)) {
            avas.push(ava.clone());
            continue;
        }
        let name = canonical(kind, &ava.attribute);
        let Some(first) = values.first() else {
            return Err(Error::invalid_input(format!(
                "'{name}' names the entry '{}'; it cannot be removed",
                entry.dn
            ))
            .attribute(&name));
        };
        let value = String::from_utf8(first.clone()).map_err(|_| {
            Error::invalid_input(format!("a new '{name}' that names an entry must be text"))
                .attribute(&name)
        })?;
        renamed = true;
        avas.push(Ava {
            attribute: ava.attribute.clone(),
            value,
        });
    }
    Ok(renamed.then_some(Rdn { avas }))
}

/// Fits `modifications` to the entry's name after its rename from `old` to `new` (the
/// same RDN when it was not renamed): the modrdn removed the old RDN's values, so removing
/// them again would fail, and the entry must keep the new RDN's values, so a removal of
/// one is dropped and a replace leaving one out keeps it.
fn fit_to_rdn(kind: Kind, modifications: &mut Vec<LdapModify>, old: &Rdn, new: &Rdn) {
    for modification in modifications.iter_mut() {
        let name = &modification.modification.atype;
        let names_it = |ava: &&Ava| canonical(kind, &ava.attribute) == *name;
        match modification.operation {
            LdapModifyType::Delete => {
                let kept: Vec<&Ava> = old.avas.iter().chain(&new.avas).filter(names_it).collect();
                modification
                    .modification
                    .vals
                    .retain(|value| !kept.iter().any(|ava| same_text(value, &ava.value)));
            }
            LdapModifyType::Replace => {
                let missing: Vec<Vec<u8>> = new
                    .avas
                    .iter()
                    .filter(names_it)
                    .filter(|ava| {
                        !modification
                            .modification
                            .vals
                            .iter()
                            .any(|value| same_text(value, &ava.value))
                    })
                    .map(|ava| ava.value.as_bytes().to_vec())
                    .collect();
                modification.modification.vals.extend(missing);
            }
            LdapModifyType::Add | LdapModifyType::Increment => {}
        }
    }
    // A delete left with no values would remove every value.
    modifications.retain(|modification| {
        modification.operation != LdapModifyType::Delete
            || !modification.modification.vals.is_empty()
    });
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
    let new_dn = new_parent.child(new_rdn);
    if !new_dn.is_within(&kind.scope.base_dn) {
        return Err(Error::invalid_input(format!(
            "'{new_dn}' is not under the base DN '{}'",
            kind.scope.base_dn
        )));
    }
    move_entry(context, &entry.dn, &current, &new_dn)?;
    read_back(context, kind, &rename.target.anchor)
}
