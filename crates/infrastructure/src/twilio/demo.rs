use application::sms::{OutgoingSms, SendSmsError, SentSms, SmsSender};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    phone::PhoneNumber,
    sms::{SmsBody, SmsStatus},
};

/// Demo mode, without Twilio credentials: the message is logged (number masked) and reported as
/// `demo`; nothing leaves the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoSmsSender;

#[async_trait]
impl SmsSender for DemoSmsSender {
    fn sender_number(&self) -> &str {
        "demo"
    }

    #[tracing::instrument(name = "sms.demo_send", skip_all, fields(to = %sms.to.masked()))]
    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError> {
        tracing::info!(
            characters = sms.body.as_str().chars().count(),
            "demo mode: SMS not sent"
        );
        Ok(SentSms {
            provider_message_id: None,
            status: SmsStatus::Demo,
        })
    }

    async fn find_sent(
        &self,
        _to: &PhoneNumber,
        _body: &SmsBody,
        _attempted_at: DateTime<Utc>,
    ) -> Result<Vec<SentSms>, SendSmsError> {
        // Demo mode never has an unknown outcome to settle.
        Ok(Vec::new())
    }
}
