// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "connection_status"))]
    pub struct ConnectionStatus;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "delete_behavior"))]
    pub struct DeleteBehavior;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "event_kind"))]
    pub struct EventKind;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "event_status"))]
    pub struct EventStatus;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "id_map_state"))]
    pub struct IdMapState;

    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "webhook_scheme"))]
    pub struct WebhookScheme;
}

diesel::table! {
    analytics_daily (connection_id, day) {
        connection_id -> Uuid,
        day -> Date,
        events_received -> Int4,
        succeeded -> Int4,
        failed -> Int4,
        dead_lettered -> Int4,
        skipped -> Int4,
        webflow_calls -> Int4,
        total_duration_ms -> Int8,
        updated_at -> Timestamptz,
        pulls -> Int4,
    }
}

diesel::table! {
    api_calls (key, month) {
        key -> Text,
        month -> Date,
        calls -> Int8,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        created_at -> Timestamptz,
        actor -> Text,
        action -> Text,
        connection_id -> Nullable<Uuid>,
        details -> Jsonb,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::ConnectionStatus;
    use super::sql_types::WebhookScheme;

    connections (id) {
        id -> Uuid,
        name -> Text,
        status -> ConnectionStatus,
        smartsuite_account_id -> Text,
        smartsuite_table_id -> Text,
        smartsuite_solution_id -> Nullable<Text>,
        smartsuite_api_key_ciphertext -> Text,
        smartsuite_api_key_iv -> Text,
        webflow_site_id -> Text,
        webflow_collection_id -> Text,
        webflow_token_ciphertext -> Text,
        webflow_token_iv -> Text,
        webhook_scheme -> WebhookScheme,
        webhook_secret_ciphertext -> Text,
        webhook_secret_iv -> Text,
        encryption_key_id -> Text,
        smartsuite_webhook_id -> Nullable<Text>,
        smartsuite_webhook_token_hash -> Nullable<Text>,
        smartsuite_events_cursor -> Nullable<Text>,
        smartsuite_webhook_kept_alive_at -> Nullable<Timestamptz>,
        rate_limit_per_min -> Int4,
        max_retries -> Int4,
        retry_backoff_ms -> Int4,
        last_success_at -> Nullable<Timestamptz>,
        last_error_at -> Nullable<Timestamptz>,
        last_error_message -> Nullable<Text>,
        consecutive_errors -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_delay_ms -> Int4,
        webflow_token_fingerprint -> Nullable<Text>,
        smartsuite_key_fingerprint -> Nullable<Text>,
    }
}

diesel::table! {
    distributed_locks (name) {
        name -> Text,
        holder -> Text,
        acquired_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::EventKind;
    use super::sql_types::EventStatus;

    events (id) {
        id -> Uuid,
        seq -> Int8,
        connection_id -> Uuid,
        kind -> EventKind,
        external_id -> Text,
        event_type -> Text,
        idempotency_key -> Text,
        payload -> Jsonb,
        payload_hash -> Nullable<Text>,
        status -> EventStatus,
        attempts -> Int4,
        retry_after -> Nullable<Timestamptz>,
        locked_by -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamptz>,
        error -> Nullable<Text>,
        warnings -> Nullable<Jsonb>,
        partial_success -> Bool,
        webflow_item_id -> Nullable<Text>,
        webflow_response -> Nullable<Jsonb>,
        queued_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        processed_at -> Nullable<Timestamptz>,
        duration_ms -> Nullable<Int8>,
        webhook_timestamp -> Nullable<Timestamptz>,
        trace_context -> Nullable<Jsonb>,
        error_detail -> Nullable<Jsonb>,
        counted_as -> Nullable<EventStatus>,
    }
}

diesel::table! {
    file_urls (handle) {
        handle -> Text,
        url -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::IdMapState;

    id_map (connection_id, external_source, external_id) {
        connection_id -> Uuid,
        external_source -> Text,
        external_id -> Text,
        webflow_item_id -> Nullable<Text>,
        slug -> Nullable<Text>,
        state -> IdMapState,
        field_data_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        files -> Nullable<Jsonb>,
        source_modified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    mapping_versions (connection_id, version) {
        connection_id -> Uuid,
        version -> Int4,
        document -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::DeleteBehavior;

    mappings (connection_id) {
        connection_id -> Uuid,
        field_map -> Jsonb,
        slug_template -> Nullable<Text>,
        status_behavior -> Nullable<Jsonb>,
        delete_behavior -> DeleteBehavior,
        required_fields -> Array<Nullable<Text>>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        match_rule -> Nullable<Jsonb>,
        transliterate_slugs -> Bool,
    }
}

diesel::table! {
    pending_links (target_connection_id, target_record_id, connection_id, record_id) {
        connection_id -> Uuid,
        record_id -> Text,
        target_connection_id -> Uuid,
        target_record_id -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rate_buckets (key) {
        key -> Text,
        permits -> Numeric,
        refilled_at -> Timestamptz,
        last_take_granted -> Bool,
        burst -> Numeric,
        refill -> Numeric,
        window_us -> Numeric,
        paused_until -> Nullable<Timestamptz>,
        announced_limit -> Nullable<Int4>,
    }
}

diesel::table! {
    rate_limits (connection_id, bucket) {
        connection_id -> Uuid,
        bucket -> Text,
        tokens -> Numeric,
        refilled_at -> Timestamptz,
        last_take_granted -> Bool,
    }
}

diesel::table! {
    webhook_checks (connection_id) {
        connection_id -> Uuid,
        webhook_id -> Text,
        status -> Text,
        detail -> Nullable<Text>,
        checked_at -> Timestamptz,
        unhealthy_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workers (id) {
        id -> Text,
        host -> Text,
        started_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        current_batch -> Int4,
        batch_started_at -> Nullable<Timestamptz>,
        stopped_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(analytics_daily -> connections (connection_id));
diesel::joinable!(audit_log -> connections (connection_id));
diesel::joinable!(events -> connections (connection_id));
diesel::joinable!(id_map -> connections (connection_id));
diesel::joinable!(mapping_versions -> connections (connection_id));
diesel::joinable!(mappings -> connections (connection_id));
diesel::joinable!(rate_limits -> connections (connection_id));
diesel::joinable!(webhook_checks -> connections (connection_id));

diesel::allow_tables_to_appear_in_same_query!(
    analytics_daily,
    api_calls,
    audit_log,
    connections,
    distributed_locks,
    events,
    file_urls,
    id_map,
    mapping_versions,
    mappings,
    pending_links,
    rate_buckets,
    rate_limits,
    webhook_checks,
    workers,
);
