//! Which Webflow field types a SmartSuite field type can fill.
//!
//! A table of SmartSuite type → Webflow types, with SmartSuite's real type names
//! (`textareafield`, `yesnofield`, `filefield`, `linkfield`, …), covering every SmartSuite
//! field type. Computed types (formula, lookup) and unknown types are permissive: their value
//! shape depends on their result, so any scalar target is accepted and the value is converted
//! (or warned about) per record. Webflow's `ExtFileRef` and `User` (read-only) and unknown Webflow types are never
//! targets.

use crate::schema::smartsuite::FieldType as S;
use crate::schema::webflow::WebflowFieldType as W;

const TEXT: &[W] = &[W::PlainText, W::Link, W::Email, W::Phone, W::RichText];
const LONG_TEXT: &[W] = &[W::RichText, W::PlainText];
const NUMBER: &[W] = &[W::Number, W::PlainText];
const DATE: &[W] = &[W::DateTime, W::PlainText];
const CHOICE: &[W] = &[W::Option, W::PlainText];
const PLAIN: &[W] = &[W::PlainText];
const SWITCH: &[W] = &[W::Switch];
const LINKED: &[W] = &[W::Reference, W::MultiReference];
const FILES: &[W] = &[W::File, W::Image, W::MultiImage, W::VideoLink];
const EMAIL: &[W] = &[W::Email, W::PlainText];
const PHONE: &[W] = &[W::Phone, W::PlainText];
const LINK: &[W] = &[W::Link, W::PlainText, W::VideoLink];
const ADDRESS: &[W] = &[W::PlainText, W::RichText];
const COLOR: &[W] = &[W::Color, W::PlainText];
const BUTTON: &[W] = &[W::Link, W::PlainText];
const ROLLUP: &[W] = &[W::Number, W::PlainText, W::DateTime];
const LOOKUP: &[W] = &[
    W::PlainText,
    W::RichText,
    W::Number,
    W::DateTime,
    W::Link,
    W::Email,
    W::Phone,
    W::Option,
];
const ANY_SCALAR: &[W] = &[
    W::PlainText,
    W::RichText,
    W::Number,
    W::DateTime,
    W::Switch,
    W::Link,
    W::Email,
    W::Phone,
    W::Color,
    W::Option,
    W::VideoLink,
];

/// The Webflow types a SmartSuite field of this type may be mapped to, preferred first.
pub fn compatible_types(smartsuite: &S) -> &'static [W] {
    match smartsuite {
        S::RecordTitle | S::Text => TEXT,
        S::TextArea | S::RichTextArea | S::Checklist => LONG_TEXT,
        S::Number
        | S::Currency
        | S::Percent
        | S::NumberSlider
        | S::PercentComplete
        | S::Rating
        | S::Vote
        | S::Duration
        | S::TimeTracking
        | S::Count
        | S::AutoNumber
        | S::CommentsCount
        | S::SubItems => NUMBER,
        S::Date | S::DateRange | S::DueDate | S::FirstCreated | S::LastUpdated => DATE,
        S::SingleSelect | S::Status => CHOICE,
        S::MultipleSelect
        | S::Tags
        | S::User
        | S::Time
        | S::FullName
        | S::IpAddress
        | S::SocialNetwork
        | S::Signature
        | S::RecordId => PLAIN,
        S::YesNo | S::Checkbox => SWITCH,
        S::LinkedRecord => LINKED,
        S::File => FILES,
        S::Email => EMAIL,
        S::Phone => PHONE,
        S::Link => LINK,
        S::Address => ADDRESS,
        S::ColorPicker => COLOR,
        S::Button => BUTTON,
        S::Rollup => ROLLUP,
        S::Lookup => LOOKUP,
        S::Formula | S::Unknown(_) => ANY_SCALAR,
    }
}

/// Whether a SmartSuite field of type `smartsuite` may fill a Webflow field of type `webflow`.
pub fn is_compatible(smartsuite: &S, webflow: &W) -> bool {
    compatible_types(smartsuite).contains(webflow)
}
