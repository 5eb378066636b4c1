use std::fmt::Write as _;

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_become_two_hex_digits_each() {
        assert_eq!(super::encode(&[0, 15, 255]), "000fff");
    }
}
