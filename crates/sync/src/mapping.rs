//! A mapping document and its stored row, both ways: what `mapping set` stores is what the
//! worker, `mapping show` and `mapping preview` read back.

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
    doc.insert("deleteBehavior".into(), json!(behavior.as_str()));
    doc.insert("requiredFields".into(), json!(mapping.required_fields));
    if let Some(rule) = &mapping.match_rule {
        doc.insert("match".into(), rule.clone());
    }
    Ok(serde_json::from_value(Value::Object(doc))?)
}

/// The row that stores `doc`. An unknown `deleteBehavior` is refused.
pub fn new_mapping(doc: &MappingDocument) -> Result<NewMapping, StoreMappingError> {
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
        let back = document(&stored(new_mapping(&doc).unwrap())).unwrap();
        assert_eq!(
            back,
            MappingDocument {
                delete_behavior: Some("unpublish".into()),
                ..doc
            }
        );
    }

    #[test]
    fn a_bare_document_defaults_to_archive_and_an_unknown_behavior_is_refused() {
        let doc = MappingDocument::from_json(r#"{"fieldMap": {}}"#).unwrap();
        let row = new_mapping(&doc).unwrap();
        assert_eq!(row.delete_behavior, StoredDeleteBehavior::Archive);
        assert_eq!(
            document(&stored(row)).unwrap().delete_behavior.as_deref(),
            Some("archive")
        );
        let doc =
            MappingDocument::from_json(r#"{"fieldMap": {}, "deleteBehavior": "burn"}"#).unwrap();
        assert!(matches!(
            new_mapping(&doc),
            Err(StoreMappingError::DeleteBehavior(b)) if b == "burn"
        ));
    }
}
