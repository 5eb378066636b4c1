//! One JSON object per log line, its correlation and deployment fields at the top level so that
//! a log search can filter on them without knowing which span set them.

use serde_json::{Map, Value};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

use super::correlation::Correlation;

/// The JSON line format: `timestamp`, `level`, `target`, `message`, the event's own fields,
/// `span` (the innermost span's name), `request_id`, `trace_id`, `span_id`, `service` and
/// `environment`.
#[derive(Debug, Clone)]
pub(crate) struct JsonLines {
    service: Value,
    environment: Value,
}

impl JsonLines {
    pub(crate) fn new(service: &str, environment: &str) -> Self {
        Self {
            service: Value::String(service.to_owned()),
            environment: Value::String(environment.to_owned()),
        }
    }
}

/// Collects an event's fields into the line's object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, once, in one field.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.insert(field.name().to_owned(), Value::String(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        // The event's fields first, so that one called `level` or `timestamp` cannot replace
        // the line's own.
        event.record(&mut Fields(&mut line));
        line.insert(
            "timestamp".to_owned(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert(
            "level".to_owned(),
            Value::String(metadata.level().as_str().to_owned()),
        );
        line.insert(
            "target".to_owned(),
            Value::String(metadata.target().to_owned()),
        );
        if let Some(scope) = context.event_scope() {
            let mut innermost = true;
            for span in scope {
                if innermost {
                    line.insert("span".to_owned(), Value::String(span.name().to_owned()));
                    innermost = false;
                }
                if let Some(correlation) = span.extensions().get::<Correlation>() {
                    for (name, value) in [
                        ("request_id", &correlation.request_id),
                        ("trace_id", &correlation.trace_id),
                        ("span_id", &correlation.span_id),
                    ] {
                        if let Some(value) = value {
                            line.insert(name.to_owned(), Value::String(value.clone()));
                        }
                    }
                    break;
                }
            }
        }
        line.insert("service".to_owned(), self.service.clone());
        line.insert("environment".to_owned(), self.environment.clone());
        writeln!(writer, "{}", Value::Object(line))
    }
}
