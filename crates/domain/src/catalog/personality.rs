use std::collections::BTreeMap;

use crate::{chat::Intent, ids::uuid_id};

uuid_id!(
    /// The id of a personality.
    PersonalityId
);

/// The stable name clients use for a personality (`chill_friend`): 2-40 characters of `a-z`,
/// `0-9` and `_`, starting with a letter.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalityKey(String);

/// Why a text is not a personality key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 2 to 40 characters of a-z, 0-9 and _, starting with a letter")]
pub struct InvalidPersonalityKey;

impl PersonalityKey {
    /// Checks `text`.
    ///
    /// # Errors
    /// [`InvalidPersonalityKey`] when it breaks the rule.
    pub fn parse(text: &str) -> Result<Self, InvalidPersonalityKey> {
        let valid = (2..=40).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidPersonalityKey)
        }
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonalityKey {
    type Error = InvalidPersonalityKey;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PersonalityKey> for String {
    fn from(key: PersonalityKey) -> Self {
        key.0
    }
}

impl std::fmt::Display for PersonalityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a plant speaks: the chat model's system prompt and the replies used when the model is not
/// available.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Personality {
    pub id: PersonalityId,
    /// Its stable key.
    pub key: PersonalityKey,
    /// Display name.
    pub name: String,
    /// One sentence for people choosing a personality.
    pub description: String,
    /// The system prompt given to the chat model.
    pub system_prompt: String,
    /// Fallback replies by intent; `{nickname}` stands for the plant's nickname.
    pub templates: BTreeMap<Intent, Vec<String>>,
}

/// Said when a personality has no template at all for an intent, nor a default one.
const LAST_RESORT_REPLY: &str = "I'm here, and glad you wrote.";

impl Personality {
    /// The fallback reply to a message of `intent` from the plant called `nickname`.
    /// `pick` chooses among the intent's templates (any number; the same number gives the same
    /// reply), so that a conversation does not repeat one line.
    #[must_use]
    pub fn fallback_reply(&self, intent: Intent, nickname: &str, pick: u64) -> String {
        let choices = self
            .templates
            .get(&intent)
            .filter(|choices| !choices.is_empty())
            .or_else(|| self.templates.get(&Intent::Default))
            .filter(|choices| !choices.is_empty());
        let Some(choices) = choices else {
            return LAST_RESORT_REPLY.to_owned();
        };
        let count = u64::try_from(choices.len()).unwrap_or(1);
        let index = usize::try_from(pick % count).unwrap_or(0);
        choices
            .get(index)
            .map_or(LAST_RESORT_REPLY, String::as_str)
            .replace("{nickname}", nickname)
    }

    /// The fallback reply like [`Personality::fallback_reply`], but never `previous` (the
    /// plant's last line) when the intent has another template: two answers in a row differ
    /// even when `pick` stops changing (a full context window).
    #[must_use]
    pub fn fallback_reply_after(
        &self,
        previous: Option<&str>,
        intent: Intent,
        nickname: &str,
        pick: u64,
    ) -> String {
        let reply = self.fallback_reply(intent, nickname, pick);
        if previous == Some(reply.as_str()) {
            self.fallback_reply(intent, nickname, pick.wrapping_add(1))
        } else {
            reply
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn personality(templates: &[(Intent, &[&str])]) -> Personality {
        Personality {
            id: PersonalityId::from_uuid(Uuid::now_v7()),
            key: PersonalityKey::parse("chill_friend").unwrap(),
            name: "Chill Friend".to_owned(),
            description: "Laid-back.".to_owned(),
            system_prompt: "You are a plant.".to_owned(),
            templates: templates
                .iter()
                .map(|(intent, lines)| (*intent, lines.iter().map(|l| (*l).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn keys_are_lower_case_words_joined_by_underscores() {
        assert!(PersonalityKey::parse("wise_elder").is_ok());
        for bad in [
            "",
            "x",
            "Wise",
            "_elder",
            "wise-elder",
            "wise elder",
            &"a".repeat(41),
        ] {
            assert_eq!(
                PersonalityKey::parse(bad),
                Err(InvalidPersonalityKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_reply_comes_from_the_intents_templates_with_the_nickname_filled_in() {
        let p = personality(&[
            (
                Intent::Water,
                &["{nickname} is thirsty", "water {nickname}"],
            ),
            (Intent::Default, &["hm"]),
        ]);
        assert_eq!(
            p.fallback_reply(Intent::Water, "Fern", 0),
            "Fern is thirsty"
        );
        assert_eq!(p.fallback_reply(Intent::Water, "Fern", 3), "water Fern");
        let first = p.fallback_reply(Intent::Water, "Fern", 0);
        assert_ne!(
            p.fallback_reply_after(Some(&first), Intent::Water, "Fern", 0),
            first,
            "the line just said is not said again"
        );
    }

    #[test]
    fn an_intent_without_templates_falls_back_to_the_default_ones_then_to_a_last_resort() {
        let p = personality(&[(Intent::Default, &["hm"]), (Intent::Sad, &[])]);
        assert_eq!(p.fallback_reply(Intent::Sad, "Fern", 7), "hm");
        assert_eq!(p.fallback_reply(Intent::Light, "Fern", 7), "hm");
        let empty = personality(&[]);
        assert_eq!(
            empty.fallback_reply(Intent::Greeting, "Fern", 1),
            LAST_RESORT_REPLY
        );
    }
}
