//! A mapping document and its stored row, both ways: what `mapping set` stores is what the
//! worker, `mapping show` and `mapping preview` read back.
//!
//! `transliterateSlugs` is the one key whose absence depends on what is stored already. A
//! document without it is stored with it on for a connection's first mapping, and with the
//! previous version's setting for a new version (an operator editing a mapping keeps the
//! slugs its items have). The stored row always holds a value and its document always says
//! it; a document that never went through here (a version recorded before the option
//! existed) reads as off.

use serde_json::{Map, Value, json};
use suiteflow_mapper::{DeleteBehavior, DocumentError, MappingDocument};
use suiteflow_store::{Mapping, NewMapping, StoredDeleteBehavior};

/// A document that cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreMappingError {
    #[error("deleteBehavior must be archive, unpublish or delete, not {0:?}")]
    DeleteBehavior(String),
    #[error("encoding the mapping: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The stored mapping as the document a person wrote.
pub fn document(mapping: &Mapping) -> Result<MappingDocument, DocumentError> {
    let behavior = match mapping.delete_behavior {
        StoredDeleteBehavior::Archive => DeleteBehavior::Archive,
        StoredDeleteBehavior::Unpublish => DeleteBehavior::Unpublish,
        StoredDeleteBehavior::Delete => DeleteBehavior::Delete,
    };
    let mut doc = Map::new();
    doc.insert("fieldMap".into(), mapping.field_map.clone());
    if let Some(template) = &mapping.slug_template {
        doc.insert("slugTemplate".into(), json!(template));
    }
    if let Some(status) = &mapping.status_behavior {
        doc.insert("statusBehavior".into(), status.clone());
    }
    doc.insert(
        "transliterateSlugs".into(),
        json!(mapping.transliterate_slugs),
    );
    doc.insert("deleteBehavior".into(), json!(behavior.as_str()));
    doc.insert("requiredFields".into(), json!(mapping.required_fields));
    if let Some(rule) = &mapping.match_rule {
        doc.insert("match".into(), rule.clone());
    }
    Ok(serde_json::from_value(Value::Object(doc))?)
}

/// Whether `doc`, stored as the connection's mapping after `previous` (its current one, if
/// any), transliterates slugs: as the document says, else as `previous` did, else on.
pub fn transliterate_slugs(doc: &MappingDocument, previous: Option<&Mapping>) -> bool {
    doc.transliterate_slugs
        .or(previous.map(|m| m.transliterate_slugs))
        .unwrap_or(true)
}

/// `doc` as it would be stored after `previous`: with `transliterateSlugs` said (what a
/// preview of a document not stored yet maps with).
pub fn as_stored(doc: &MappingDocument, previous: Option<&Mapping>) -> MappingDocument {
    MappingDocument {
        transliterate_slugs: Some(transliterate_slugs(doc, previous)),
        ..doc.clone()
    }
}

/// The row that stores `doc` as the connection's mapping after `previous` (its current one,
/// if any; see [`transliterate_slugs`]). An unknown `deleteBehavior` is refused.
pub fn new_mapping(
    doc: &MappingDocument,
    previous: Option<&Mapping>,
) -> Result<NewMapping, StoreMappingError> {
    let delete_behavior = match doc.delete_behavior.as_deref() {
        None => StoredDeleteBehavior::Archive,
        Some(text) => match DeleteBehavior::parse(text) {
            Some(DeleteBehavior::Archive) => StoredDeleteBehavior::Archive,
            Some(DeleteBehavior::Unpublish) => StoredDeleteBehavior::Unpublish,
            Some(DeleteBehavior::Delete) => StoredDeleteBehavior::Delete,
            None => return Err(StoreMappingError::DeleteBehavior(text.to_owned())),
        },
    };
    Ok(NewMapping {
        field_map: serde_json::to_value(&doc.field_map)?,
        slug_template: doc.slug_template.clone(),
        status_behavior: doc
            .status_behavior
            .as_ref()
            .map(serde_json::to_value)
            .transpose()?,
        delete_behavior,
        required_fields: doc.required_fields.clone(),
        match_rule: doc
            .match_rule
            .as_ref()
            .map(serde_json::to_value)
            .transpose()?,
        transliterate_slugs: transliterate_slugs(doc, previous),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use suiteflow_store::ConnectionId;
    use time::OffsetDateTime;

    fn stored(new: NewMapping) -> Mapping {
        Mapping {
            connection_id: ConnectionId(uuid::Uuid::nil()),
            field_map: new.field_map,
            slug_template: new.slug_template,
            status_behavior: new.status_behavior,
            delete_behavior: new.delete_behavior,
            required_fields: new.required_fields,
            match_rule: new.match_rule,
            transliterate_slugs: new.transliterate_slugs,
            version: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_document_reads_back_as_it_was_stored() {
        let doc = MappingDocument::from_json(
            r#"{"fieldMap": {"name": {"type": "direct", "source": "title"},
                             "price": {"type": "direct", "source": "price", "transform": "round", "args": [2]}},
                "slugTemplate": "{{title}}",
                "statusBehavior": {"source": "status.value", "draft": ["backlog"], "archived": []},
                "deleteBehavior": "Unpublish",
                "requiredFields": ["name"],
                "match": {"on": "field", "webflowField": "smartsuite-id", "source": "id"}}"#,
        )
        .unwrap();
        let back = document(&stored(new_mapping(&doc, None).unwrap())).unwrap();
        assert_eq!(
            back,
            MappingDocument {
                delete_behavior: Some("unpublish".into()),
                transliterate_slugs: Some(true),
                ..doc
            }
        );
        // What `mapping show` prints is stored as it was.
        let again = document(&stored(new_mapping(&back, None).unwrap())).unwrap();
        assert_eq!(again, back);
    }

    #[test]
    fn a_bare_document_defaults_to_archive_and_an_unknown_behavior_is_refused() {
        let doc = MappingDocument::from_json(r#"{"fieldMap": {}}"#).unwrap();
        let row = new_mapping(&doc, None).unwrap();
        assert_eq!(row.delete_behavior, StoredDeleteBehavior::Archive);
        assert_eq!(
            document(&stored(row)).unwrap().delete_behavior.as_deref(),
            Some("archive")
        );
        let doc =
            MappingDocument::from_json(r#"{"fieldMap": {}, "deleteBehavior": "burn"}"#).unwrap();
        assert!(matches!(
            new_mapping(&doc, None),
            Err(StoreMappingError::DeleteBehavior(b)) if b == "burn"
        ));
    }

    #[test]
    fn transliteration_is_on_for_a_first_mapping_and_kept_by_a_new_version_unless_said() {
        let bare = MappingDocument::from_json(r#"{"fieldMap": {}}"#).unwrap();
        let said = |flag: bool| MappingDocument {
            transliterate_slugs: Some(flag),
            ..bare.clone()
        };
        // A connection's first mapping: on unless the document says otherwise.
        let first = stored(new_mapping(&bare, None).unwrap());
        assert!(first.transliterate_slugs);
        assert!(!new_mapping(&said(false), None).unwrap().transliterate_slugs);
        // A mapping stored before the option existed reads as off, and a new version of it
        // without the key stays off; one that says so turns it on.
        let old = Mapping {
            transliterate_slugs: false,
            ..first.clone()
        };
        assert_eq!(document(&old).unwrap().transliterate_slugs, Some(false));
        assert!(!new_mapping(&bare, Some(&old)).unwrap().transliterate_slugs);
        assert!(
            new_mapping(&said(true), Some(&old))
                .unwrap()
                .transliterate_slugs
        );
        // A new version of a mapping that has it on keeps it on unless it says off.
        assert!(
            new_mapping(&bare, Some(&first))
                .unwrap()
                .transliterate_slugs
        );
        assert!(
            !new_mapping(&said(false), Some(&first))
                .unwrap()
                .transliterate_slugs
        );
        // A preview of a document not stored yet maps as it would be stored.
        assert_eq!(as_stored(&bare, None).transliterate_slugs, Some(true));
        assert_eq!(
            as_stored(&bare, Some(&old)).transliterate_slugs,
            Some(false)
        );
        assert_eq!(as_stored(&said(true), Some(&old)), said(true));
    }
}
