//! Mapping documents in JSON, YAML and TOML, and the schema views.

use suiteflow_mapper::schema::smartsuite::FieldType;
use suiteflow_mapper::schema::webflow::{Collection, WebflowFieldType};
use suiteflow_mapper::{DocumentFormat, MappingDocument, validate};

use crate::fixtures::*;

const YAML: &str = r#"
fieldMap:
  name: {type: direct, source: title}
  price: {type: direct, source: s584654fd2, transform: round, args: [2]}
  sku: {type: template, template: "{{s5c0e1a7b3}}-{{title | kebab}}"}
  brand: {type: constant, value: Acme}
slugTemplate: "{{title}}"
statusBehavior: {source: status.value, draft: [backlog], archived: [cancelled]}
deleteBehavior: unpublish
requiredFields: [name, price]
"#;

const TOML: &str = r#"
slugTemplate = "{{title}}"
deleteBehavior = "unpublish"
requiredFields = ["name", "price"]

[statusBehavior]
source = "status.value"
draft = ["backlog"]
archived = ["cancelled"]

[fieldMap.name]
type = "direct"
source = "title"

[fieldMap.price]
type = "direct"
source = "s584654fd2"
transform = "round"
args = [2]

[fieldMap.sku]
type = "template"
template = "{{s5c0e1a7b3}}-{{title | kebab}}"

[fieldMap.brand]
type = "constant"
value = "Acme"
"#;

#[test]
fn the_three_formats_parse_to_the_same_document() {
    let json = MappingDocument::parse(
        &serde_json::to_string(&MappingDocument::from_yaml(YAML).unwrap()).unwrap(),
        DocumentFormat::Json,
    )
    .unwrap();
    let yaml = MappingDocument::parse(YAML, DocumentFormat::Yaml).unwrap();
    let toml = MappingDocument::parse(TOML, DocumentFormat::Toml).unwrap();
    assert_eq!(yaml, toml);
    assert_eq!(json, yaml);
    assert_eq!(yaml.field_map["price"].args, vec![serde_json::json!(2)]);
    assert_eq!(
        yaml.to_json()["fieldMap"]["sku"]["template"],
        "{{s5c0e1a7b3}}-{{title | kebab}}"
    );
    let mapping = validate(&yaml, &table(), &collection()).unwrap();
    assert_eq!(mapping.delete_behavior().as_str(), "unpublish");
    assert_eq!(
        DocumentFormat::from_extension("YML"),
        Some(DocumentFormat::Yaml)
    );
    assert_eq!(
        DocumentFormat::from_extension(".toml"),
        Some(DocumentFormat::Toml)
    );
    assert_eq!(DocumentFormat::from_extension("xml"), None);
}

#[test]
fn syntax_errors_are_reported_per_format() {
    assert!(
        MappingDocument::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("JSON")
    );
    assert!(
        MappingDocument::from_yaml("fieldMap: [")
            .unwrap_err()
            .to_string()
            .contains("YAML")
    );
    assert!(
        MappingDocument::from_toml("fieldMap = ")
            .unwrap_err()
            .to_string()
            .contains("TOML")
    );
    // A field entry without `type` is a shape error.
    assert!(MappingDocument::from_json(r#"{"fieldMap": {"name": {"source": "x"}}}"#).is_err());
}

#[test]
fn smartsuite_structure_deserialises_with_unknown_types_kept() {
    let table = table();
    assert_eq!(table.structure.len(), 37);
    assert_eq!(table.primary_field.as_deref(), Some("title"));
    let category = table.field("se799fd212").unwrap();
    assert_eq!(category.field_type, FieldType::SingleSelect);
    assert_eq!(category.choice("3u0Cl").unwrap().label, "Guides");
    assert_eq!(
        table
            .field("s570c86b38")
            .unwrap()
            .params
            .linked_application
            .as_deref(),
        Some("6418cd08b64e448d78141297")
    );
    assert!(
        table
            .structure
            .iter()
            .all(|f| !matches!(f.field_type, FieldType::Unknown(_)))
    );

    let odd: suiteflow_mapper::schema::smartsuite::Table =
        serde_json::from_value(serde_json::json!({
            "structure": [{"slug": "x", "field_type": "hologramfield", "params": null, "extra": 1}],
            "something_new": true
        }))
        .unwrap();
    assert_eq!(
        odd.structure[0].field_type,
        FieldType::Unknown("hologramfield".into())
    );
    assert_eq!(
        serde_json::to_value(&odd.structure[0].field_type).unwrap(),
        "hologramfield"
    );
}

#[test]
fn webflow_collection_deserialises_from_the_openapi_example() {
    // Trimmed from openapi.yaml's `GET /collections/{collection_id}` example.
    let collection: Collection = serde_json::from_value(serde_json::json!({
        "id": "7f15043107e2fc95644e93807ee25dd6",
        "displayName": "Guide Entries",
        "singularName": "Guide Entry",
        "fields": [
            {"id": "5e2a", "isEditable": true, "isRequired": true, "type": "PlainText", "slug": "name",
             "displayName": "Entry Title", "helpText": "Name of the entry.", "validations": null},
            {"id": "3f4e", "isEditable": true, "isRequired": false, "type": "Number", "slug": "importance-level",
             "displayName": "Importance Level", "helpText": null,
             "validations": {"format": "integer", "allowNegative": false, "allowZero": false, "minValue": 1, "maxValue": 5}},
            {"id": "6f7e", "isEditable": true, "isRequired": false, "type": "Option", "slug": "item-type",
             "displayName": "Item Type", "validations": {"options": [{"name": "Survival Gear", "id": "66f6e966c9e1dc700a857ca3"}]}},
            {"id": "5f6e", "isRequired": false, "type": "Reference", "slug": "related-entry", "displayName": "Related",
             "validations": {"collectionId": "7f15043107e2fc95644e93807ee25dd6"}},
            {"id": "9", "isRequired": false, "type": "Hologram", "displayName": "New"}
        ],
        "slug": "guide-entry",
        "createdOn": "2024-04-12T12:42:00.000Z"
    }))
    .unwrap();
    let level = collection.field("importance-level").unwrap();
    assert!(level.is_integer());
    assert_eq!(level.validations.min_value, Some(1.0));
    assert_eq!(
        collection.field("item-type").unwrap().validations.options[0].name,
        "Survival Gear"
    );
    assert_eq!(
        collection
            .field("related-entry")
            .unwrap()
            .validations
            .collection_id
            .as_deref(),
        Some("7f15043107e2fc95644e93807ee25dd6")
    );
    assert!(collection.field("related-entry").unwrap().is_editable);
    assert_eq!(
        collection.fields[4].field_type,
        WebflowFieldType::Unknown("Hologram".into())
    );
    assert_eq!(collection.fields[4].slug, "");
}
