//! A readable device name ("Firefox on Windows") from a User-Agent header.

/// Browser and operating system as people call them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub browser: &'static str,
    pub os: &'static str,
}

impl Device {
    /// Best-effort reading of a User-Agent; anything unrecognised is "Unknown".
    pub fn from_user_agent(user_agent: &str) -> Self {
        let ua = user_agent;
        let browser = if ua.contains("Edg/") || ua.contains("EdgA/") || ua.contains("EdgiOS/") {
            "Edge"
        } else if ua.contains("OPR/") || ua.contains("Opera") {
            "Opera"
        } else if ua.contains("SamsungBrowser/") {
            "Samsung Internet"
        } else if ua.contains("Firefox/") || ua.contains("FxiOS/") {
            "Firefox"
        } else if ua.contains("HeadlessChrome/") {
            "Headless Chrome"
        } else if ua.contains("Chrome/") || ua.contains("CriOS/") || ua.contains("Chromium/") {
            "Chrome"
        } else if ua.contains("Safari/") && ua.contains("Version/") {
            "Safari"
        } else if ua.starts_with("curl/") {
            "curl"
        } else if ua.starts_with("latchkey ") {
            "Latchkey CLI"
        } else {
            "Unknown browser"
        };
        let os = if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
            "iOS"
        } else if ua.contains("Android") {
            "Android"
        } else if ua.contains("Windows") {
            "Windows"
        } else if ua.contains("CrOS") {
            "ChromeOS"
        } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
            "macOS"
        } else if ua.contains("Linux") || ua.contains("X11") {
            "Linux"
        } else {
            "unknown system"
        };
        Device { browser, os }
    }

    /// "Firefox on Windows".
    pub fn describe(user_agent: Option<&str>) -> String {
        match user_agent {
            Some(ua) => {
                let device = Device::from_user_agent(ua);
                format!("{} on {}", device.browser, device.os)
            }
            None => "Unknown device".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Device;

    #[test]
    fn common_user_agents_are_named() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Safari on iOS"),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36", "Chrome on Android"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0", "Edge on Windows"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Headless Chrome on Linux"),
            ("curl/8.5.0", "curl on unknown system"),
            ("", "Unknown browser on unknown system"),
        ];
        for (ua, expected) in cases {
            assert_eq!(Device::describe(Some(ua)), expected, "{ua}");
        }
        assert_eq!(Device::describe(None), "Unknown device");
    }
}
