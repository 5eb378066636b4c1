//! Reading variables as text and parsing them while collecting every problem.

use std::{collections::HashMap, fmt, str::FromStr};

use domain::secret::Secret;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The variable.
    pub variable: &'static str,
    /// The rule it broke, in words. Never the value.
    pub rule: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.rule)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// The raw variables, and the problems found while parsing them.
#[derive(Debug)]
pub(super) struct Reader {
    values: HashMap<String, String>,
    pub(super) problems: Vec<ConfigProblem>,
}

impl Reader {
    pub(super) fn new(values: HashMap<String, String>) -> Self {
        let values = values
            .into_iter()
            .map(|(key, value)| (key.to_ascii_uppercase(), value))
            .collect();
        Self {
            values,
            problems: Vec::new(),
        }
    }

    pub(super) fn problem(&mut self, variable: &'static str, rule: impl Into<String>) {
        self.problems.push(ConfigProblem {
            variable,
            rule: rule.into(),
        });
    }

    /// The trimmed value, `None` when unset or blank.
    pub(super) fn text(&self, variable: &str) -> Option<String> {
        #[cfg(test)]
        asked::record(variable);
        self.values
            .get(variable)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    pub(super) fn text_or(&self, variable: &str, default: &str) -> String {
        self.text(variable).unwrap_or_else(|| default.to_owned())
    }

    pub(super) fn secret(&self, variable: &str) -> Option<Secret> {
        self.text(variable).map(Secret::new)
    }

    /// A number within `range`, or `default` when unset.
    pub(super) fn number<T>(&mut self, variable: &'static str, default: T, min: T, max: T) -> T
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        let Some(text) = self.text(variable) else {
            return default;
        };
        match text.parse::<T>() {
            Ok(value) if value >= min && value <= max => value,
            _ => {
                self.problem(variable, format!("must be a number from {min} to {max}"));
                default
            }
        }
    }

    pub(super) fn boolean(&mut self, variable: &'static str, default: bool) -> bool {
        let Some(text) = self.text(variable) else {
            return default;
        };
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                self.problem(variable, "must be true or false");
                default
            }
        }
    }

    /// A comma-separated list, trimmed, without empty items.
    pub(super) fn list(&self, variable: &str) -> Vec<String> {
        self.text(variable)
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether `text` is an `http(s)://host[:port][/prefix]` URL without a trailing slash, query or
/// fragment.
pub(super) fn is_http_url(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    !host.is_empty()
        && !rest.ends_with('/')
        && !rest.contains(['?', '#', ' '])
        && !host.contains('@')
}

/// Whether `text` is an origin: `http(s)://host[:port]`, nothing after.
pub(super) fn is_origin(text: &str) -> bool {
    is_http_url(text) && text.splitn(4, '/').nth(3).is_none()
}

/// Whether `text` is an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `::1/128`) or a plain address.
pub(super) fn is_cidr(text: &str) -> bool {
    match text.split_once('/') {
        None => text.parse::<std::net::IpAddr>().is_ok(),
        Some((address, prefix)) => match address.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                prefix.parse::<u8>().is_ok_and(|bits| bits <= max)
            }
            Err(_) => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognised() {
        assert!(is_http_url("https://api.openai.com/v1"));
        assert!(is_http_url("http://127.0.0.1:8080"));
        assert!(!is_http_url("https://example.com/"));
        assert!(!is_http_url("ftp://example.com"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://user:pass@example.com"));
        assert!(is_origin("https://app.example.com"));
        assert!(is_origin("http://localhost:3000"));
        assert!(!is_origin("https://app.example.com/path"));
    }

    #[test]
    fn cidrs_are_recognised() {
        for ok in [
            "10.0.0.0/8",
            "127.0.0.1",
            "::1/128",
            "fd00::/8",
            "192.168.1.1/32",
        ] {
            assert!(is_cidr(ok), "{ok}");
        }
        for bad in [
            "10.0.0.0/33",
            "::1/129",
            "example.com",
            "10.0.0/8",
            "10.0.0.0/",
        ] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_skip_empty_items() {
        let reader = Reader::new(HashMap::from([("X".to_owned(), " a, b ,,c ".to_owned())]));
        assert_eq!(reader.list("X"), ["a", "b", "c"]);
    }
}

/// The names the configuration asked for on this thread, for the test that holds
/// [`super::VARIABLES`], docs/configuration.md and `.env.example` to what is read.
#[cfg(test)]
pub(super) mod asked {
    use std::{cell::RefCell, collections::BTreeSet};

    thread_local! {
        static ASKED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    }

    pub(in super::super) fn record(variable: &str) {
        ASKED.with(|asked| asked.borrow_mut().insert(variable.to_owned()));
    }

    /// Every name asked for on this thread so far.
    pub(in super::super) fn names() -> BTreeSet<String> {
        ASKED.with(|asked| asked.borrow().clone())
    }
}
