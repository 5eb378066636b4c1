//! One JSON object per log line, its correlation and deployment fields at the top level so that
//! a log search can filter on them without knowing which span set them.

use serde_json::{Map, Value};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

/// Formats no span fields: a JSON line carries the innermost span's name and the request's ids
/// (from [`http_api::correlation`]), not the fields of its spans, so formatting them for every
/// span and every `record` would be work nobody reads.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SkipSpanFields;

impl<'writer> FormatFields<'writer> for SkipSpanFields {
    fn format_fields<R: RecordFields>(
        &self,
        _writer: Writer<'writer>,
        _fields: R,
    ) -> std::fmt::Result {
        Ok(())
    }
}

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
        if let Some(span) = context.lookup_current() {
            line.insert("span".to_owned(), Value::String(span.name().to_owned()));
        }
        http_api::correlation::with_current(|ids| {
            for (name, value) in [
                ("request_id", &ids.request_id),
                ("trace_id", &ids.trace_id),
                ("span_id", &ids.span_id),
            ] {
                line.insert(name.to_owned(), Value::String(value.clone()));
            }
        });
        line.insert("service".to_owned(), self.service.clone());
        line.insert("environment".to_owned(), self.environment.clone());
        writeln!(writer, "{}", Value::Object(line))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_api::correlation::{self, Correlation};
    use tracing_subscriber::{EnvFilter, Layer as _, fmt, layer::SubscriberExt as _};

    use super::*;

    /// Logs `log` through the JSON lines of a subscriber filtered by `filter`; the lines written.
    fn lines_logged(filter: &str, log: impl FnOnce()) -> Vec<Value> {
        let written = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&written);
        let layer = fmt::layer()
            .fmt_fields(SkipSpanFields)
            .event_format(JsonLines::new("plant-texts", "test"))
            .with_writer(move || Capture(Arc::clone(&sink)))
            .with_filter(EnvFilter::new(filter));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), log);
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn ids() -> Correlation {
        Correlation {
            request_id: "req-42".to_owned(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(),
            span_id: "b7ad6b7169203331".to_owned(),
        }
    }

    #[test]
    fn a_warning_inside_a_request_carries_its_ids_even_when_the_request_span_is_filtered_out() {
        let lines = lines_logged("warn", || {
            correlation::sync_scope(ids(), || {
                let span = tracing::info_span!("http.request", request_id = "req-42");
                let _entered = span.enter();
                tracing::info!("filtered out");
                tracing::warn!(attempt = 2, "slow answer");
            });
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["message"], "slow answer");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["attempt"], 2);
        assert_eq!(line["request_id"], "req-42");
        assert_eq!(line["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(line["span_id"], "b7ad6b7169203331");
        assert_eq!(line["service"], "plant-texts");
        assert_eq!(line["environment"], "test");
        assert!(line.get("span").is_none(), "the filtered span is not named");
    }

    #[test]
    fn a_line_names_its_innermost_span_and_not_its_fields() {
        let lines = lines_logged("info", || {
            let outer = tracing::info_span!("http.request", request_id = "req-42");
            let _outer = outer.enter();
            let inner = tracing::info_span!("gardens.rule", rule = "companions");
            let _inner = inner.enter();
            tracing::info!("checked");
        });
        assert_eq!(lines[0]["span"], "gardens.rule");
        assert!(lines[0].get("rule").is_none(), "{}", lines[0]);
    }

    #[test]
    fn outside_a_request_a_line_has_no_ids() {
        let lines = lines_logged("info", || tracing::info!("worker started"));
        for field in ["request_id", "trace_id", "span_id"] {
            assert!(lines[0].get(field).is_none(), "{field}: {}", lines[0]);
        }
    }

    #[test]
    fn an_event_field_cannot_replace_the_lines_own() {
        let lines = lines_logged("info", || {
            tracing::info!(level = "fake", timestamp = "never", "spoof");
        });
        assert_eq!(lines[0]["level"], "INFO");
        assert_ne!(lines[0]["timestamp"], "never");
    }
}
