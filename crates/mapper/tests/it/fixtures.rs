//! Shared fixtures: the SmartSuite sample table and record (`tests/data`) and the every-type
//! Webflow collection.

use serde_json::Value;
use suiteflow_mapper::schema::smartsuite::Table;
use suiteflow_mapper::schema::webflow::Collection;
use suiteflow_mapper::{CompiledMapping, MapResolvers, MappingDocument, validate};

pub fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn json(name: &str) -> Value {
    serde_json::from_str(&data(name)).unwrap()
}

/// `sample_structure.json`'s `table`.
pub fn table() -> Table {
    serde_json::from_value(json("sample_structure.json")["table"].clone()).unwrap()
}

/// `sample_record.json`'s `record`.
pub fn record() -> Value {
    json("sample_record.json")["record"].clone()
}

/// The Webflow collection with every field type.
pub fn collection() -> Collection {
    serde_json::from_value(json("webflow_collection.json")).unwrap()
}

pub fn full_document() -> MappingDocument {
    MappingDocument::from_json(&data("mapping_full.json")).unwrap()
}

pub fn full_mapping() -> CompiledMapping {
    validate(&full_document(), &table(), &collection()).unwrap_or_else(|p| panic!("{p:#?}"))
}

/// Resolves the hero image and one of the two authors.
pub fn resolvers() -> MapResolvers {
    MapResolvers::default()
        .with_file("a4d988eCTCKZ62XMqUIj", "https://files.example/hero.png")
        .with_record(None, "6455294a7715e71aecd9c56a", "wf-author-1")
        .with_record(
            Some("authors-connection"),
            "6455294a7715e71aecd9c56a",
            "wf-author-1",
        )
}

/// A SmartSuite table from (slug, field_type) pairs.
pub fn table_of(fields: &[(&str, &str)]) -> Table {
    let structure: Vec<Value> = fields
        .iter()
        .map(|(slug, ty)| serde_json::json!({"slug": slug, "label": slug, "field_type": ty, "params": {}}))
        .collect();
    serde_json::from_value(serde_json::json!({"id": "t", "name": "t", "structure": structure}))
        .unwrap()
}

/// A Webflow collection from (slug, type, required) triples.
pub fn collection_of(fields: &[(&str, &str, bool)]) -> Collection {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(slug, ty, req)| {
            serde_json::json!({"id": format!("id-{slug}"), "slug": slug, "displayName": slug, "type": ty,
                               "isRequired": req, "isEditable": true, "validations": null})
        })
        .collect();
    serde_json::from_value(
        serde_json::json!({"id": "c", "displayName": "C", "singularName": "C", "fields": fields}),
    )
    .unwrap()
}
