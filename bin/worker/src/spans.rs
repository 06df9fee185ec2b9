//! A span per claimed event, continuing the trace of the request that enqueued it; open from
//! the claim until its outcome is recorded.

use std::collections::HashMap;

use suiteflow_store::{Event, EventId};

pub struct Spans(HashMap<EventId, tracing::Span>);

impl Spans {
    pub fn new(events: &[Event]) -> Self {
        Self(
            events
                .iter()
                .map(|event| {
                    let span = tracing::info_span!(
                        "process_event",
                        otel.kind = "consumer",
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        kind = event.kind.as_str(),
                        attempt = event.attempts,
                    );
                    if let Some(stored) = &event.trace_context {
                        suiteflow_telemetry::continue_trace(&span, stored);
                    }
                    (event.id, span)
                })
                .collect(),
        )
    }

    pub fn of(&self, event: &Event) -> tracing::Span {
        self.0
            .get(&event.id)
            .cloned()
            .unwrap_or_else(tracing::Span::none)
    }
}
