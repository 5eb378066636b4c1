//! Keeps the ids of a request's span (`request_id`, `trace_id`, `span_id`) where the log
//! formatter finds them for every line logged inside the request.

use tracing::{
    Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};
use tracing_subscriber::{Layer, layer::Context, registry::LookupSpan};

/// The ids a request's log lines carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Correlation {
    pub(crate) request_id: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) span_id: Option<String>,
}

impl Visit for Correlation {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "request_id" => &mut self.request_id,
            "trace_id" => &mut self.trace_id,
            "span_id" => &mut self.span_id,
            _ => return,
        };
        *slot = Some(value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "request_id" | "trace_id" | "span_id") {
            // `%value` fields arrive here; their Display is what the logs show.
            let text = format!("{value:?}");
            self.record_str(field, &text);
        }
    }
}

/// Records the ids into the span's extensions as they are set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CorrelationLayer;

impl<S> Layer<S> for CorrelationLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut correlation = Correlation::default();
        attributes.record(&mut correlation);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(correlation);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, context: Context<'_, S>) {
        if let Some(span) = context.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(correlation) = extensions.get_mut::<Correlation>() {
                values.record(correlation);
            }
        }
    }
}
