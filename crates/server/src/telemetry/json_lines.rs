//! One JSON object per log line, its correlation and deployment fields at the top level so that
//! a log search can filter on them without knowing which span set them.

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

/// The JSON line format: `timestamp`, `level`, `target`, the event's own fields (`message`
/// among them), `span` (the innermost span's name), `request_id`, `trace_id`, `span_id`,
/// `service` and `environment`.
///
/// The line is written as it goes, not built as a `serde_json::Value` first: every request
/// logs one, and the map of owned keys and values it took was a tenth of a `/health/live`
/// (docs/benchmarks.md).
#[derive(Debug, Clone)]
pub(crate) struct JsonLines {
    service: String,
    environment: String,
}

impl JsonLines {
    pub(crate) fn new(service: &str, environment: &str) -> Self {
        Self {
            service: service.to_owned(),
            environment: environment.to_owned(),
        }
    }
}

/// The names a line writes itself. An event field of one of these names is left out, so that
/// it cannot pass for the line's own.
const LINE_FIELDS: [&str; 9] = [
    "timestamp",
    "level",
    "target",
    "span",
    "request_id",
    "trace_id",
    "span_id",
    "service",
    "environment",
];

/// A JSON object written member by member.
struct JsonObject {
    text: Vec<u8>,
    /// Set when a value could not be written; the line is then dropped, never cut short.
    failed: bool,
}

impl JsonObject {
    fn new() -> Self {
        let mut text = Vec::with_capacity(384);
        text.push(b'{');
        Self {
            text,
            failed: false,
        }
    }

    /// Writes `"name":value`.
    fn member(&mut self, name: &str, value: &(impl serde::Serialize + ?Sized)) {
        if self.text.len() > 1 {
            self.text.push(b',');
        }
        let written = serde_json::to_writer(&mut self.text, name).and_then(|()| {
            self.text.push(b':');
            serde_json::to_writer(&mut self.text, value)
        });
        self.failed |= written.is_err();
    }

    /// The object and its line end.
    fn finish(mut self) -> Result<String, std::fmt::Error> {
        if self.failed {
            return Err(std::fmt::Error);
        }
        self.text.extend_from_slice(b"}\n");
        String::from_utf8(self.text).map_err(|_| std::fmt::Error)
    }
}

/// Writes an event's fields into the line.
struct Fields<'a>(&'a mut JsonObject);

impl Fields<'_> {
    fn member(&mut self, field: &Field, value: &(impl serde::Serialize + ?Sized)) {
        if !LINE_FIELDS.contains(&field.name()) {
            self.0.member(field.name(), value);
        }
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, &value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, &value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // Not a number and the infinities have no JSON form: written as null.
        self.member(field, &value);
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
        self.member(field, text.as_str());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.member(field, format!("{value:?}").as_str());
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
        let mut line = JsonObject::new();
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        line.member("timestamp", timestamp.as_str());
        line.member("level", metadata.level().as_str());
        line.member("target", metadata.target());
        event.record(&mut Fields(&mut line));
        if let Some(span) = context.lookup_current() {
            line.member("span", span.name());
        }
        http_api::correlation::with_current(|ids| {
            line.member("request_id", ids.request_id.as_str());
            line.member("trace_id", ids.trace_id.as_str());
            line.member("span_id", ids.span_id.as_str());
        });
        line.member("service", self.service.as_str());
        line.member("environment", self.environment.as_str());
        writer.write_str(&line.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_api::correlation::{self, Correlation};
    use tracing_subscriber::{EnvFilter, Layer as _, fmt, layer::SubscriberExt as _};

    use serde_json::Value;

    use super::*;

    /// Logs `log` through the JSON lines of a subscriber filtered by `filter`; the text written.
    fn text_logged(filter: &str, log: impl FnOnce()) -> String {
        let written = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&written);
        let layer = fmt::layer()
            .fmt_fields(SkipSpanFields)
            .event_format(JsonLines::new("plant-texts", "test"))
            .with_writer(move || Capture(Arc::clone(&sink)))
            .with_filter(EnvFilter::new(filter));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), log);
        String::from_utf8(written.lock().unwrap().clone()).unwrap()
    }

    /// As [`text_logged`], each line parsed.
    fn lines_logged(filter: &str, log: impl FnOnce()) -> Vec<Value> {
        text_logged(filter, log)
            .lines()
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
    fn an_event_field_named_like_the_lines_own_is_left_out_not_written_twice() {
        let text = text_logged("info", || {
            tracing::info!(
                level = "fake",
                timestamp = "never",
                service = "other",
                "spoof"
            );
        });
        assert_eq!(text.matches("\"level\"").count(), 1, "{text}");
        assert_eq!(text.matches("\"timestamp\"").count(), 1, "{text}");
        assert_eq!(text.matches("\"service\"").count(), 1, "{text}");
        for spoof in ["fake", "never", "other"] {
            assert!(!text.contains(spoof), "{text}");
        }
    }

    #[test]
    fn hostile_text_and_numbers_without_a_json_form_still_make_one_valid_line() {
        let hostile = "a \"quoted\" word,\nthen a bell \u{7} and a \\ backslash";
        let text = text_logged("info", || {
            tracing::info!(
                note = hostile,
                ratio = f64::NAN,
                count = u64::MAX,
                ok = true,
                "odd"
            );
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["note"], hostile);
        assert!(line["ratio"].is_null());
        assert_eq!(line["count"], u64::MAX);
        assert_eq!(line["ok"], true);
        assert_eq!(line["message"], "odd");
    }

    #[test]
    fn an_error_field_carries_its_whole_cause_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("saving failed")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("disk full"));
        let lines = lines_logged("info", || {
            tracing::warn!(
                error = &error as &(dyn std::error::Error + 'static),
                "gave up"
            );
        });
        assert_eq!(lines[0]["error"], "saving failed: disk full");
    }
}
