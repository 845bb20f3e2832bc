//! A shop's calendar: its time zone (an IANA name such as Asia/Bangkok, or
//! a fixed UTC offset), its days, and the dates sellers read. The time-zone
//! rules come from jiff's bundled database, so no I/O happens here.

use super::Timestamp;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};

#[derive(Clone, Debug)]
pub struct Calendar {
    zone: TimeZone,
    /// How dates read: `en` (the seeds' `dd.mm.yyyy`), `th` (`dd/mm/` and
    /// the Buddhist year, as Thai paperwork writes it) or `vi` (`dd/mm/yyyy`).
    lang: &'static str,
}

impl Calendar {
    /// The shop's zone: `time_zone` when it names one, else the fixed offset.
    pub fn new(time_zone: Option<&str>, utc_offset_minutes: i32) -> Calendar {
        let zone = time_zone
            .and_then(|name| TimeZone::get(name).ok())
            .or_else(|| {
                Offset::from_seconds(utc_offset_minutes.saturating_mul(60))
                    .ok()
                    .map(TimeZone::fixed)
            })
            .unwrap_or(TimeZone::UTC);
        Calendar { zone, lang: "en" }
    }

    /// The same calendar, its dates written for a reader of `lang`.
    pub fn in_language(self, lang: &str) -> Calendar {
        let lang = match lang.get(..2) {
            Some("th") => "th",
            Some("vi") => "vi",
            _ => "en",
        };
        Calendar { lang, ..self }
    }

    /// Whether `name` is a time zone this build knows (for validating a
    /// seller's setting).
    pub fn knows(name: &str) -> bool {
        TimeZone::get(name).is_ok()
    }

    fn date_of(&self, t: Timestamp) -> Option<jiff::Zoned> {
        jiff::Timestamp::from_millisecond(t.millis())
            .ok()
            .map(|ts| ts.to_zoned(self.zone.clone()))
    }

    /// `dd.mm.yyyy hh:mm`, the format the seeds' order pages use, or the
    /// reader's own (see `lang`).
    pub fn date_time(&self, t: Timestamp) -> String {
        self.date_of(t)
            .map(|z| match self.lang {
                "th" => format!(
                    "{}/{} {}",
                    z.strftime("%d/%m"),
                    i32::from(z.year()) + 543,
                    z.strftime("%H:%M")
                ),
                "vi" => z.strftime("%d/%m/%Y %H:%M").to_string(),
                _ => z.strftime("%d.%m.%Y %H:%M").to_string(),
            })
            .unwrap_or_default()
    }

    /// `yyyy-mm-dd hh:mm:ss` in the shop's zone: what accounting programs
    /// import, and sorts as text.
    pub fn sortable(&self, t: Timestamp) -> String {
        self.date_of(t)
            .map(|z| z.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }

    /// The local day `t` falls on.
    pub fn day_of(&self, t: Timestamp) -> Option<Date> {
        self.date_of(t).map(|z| z.date())
    }

    /// The zone's name (`Asia/Bangkok`, or `UTC+07:00` for a fixed offset).
    pub fn zone_name(&self) -> String {
        match self.zone.iana_name() {
            Some(n) => n.to_string(),
            None => {
                let secs = self
                    .zone
                    .to_fixed_offset()
                    .map(|o| o.seconds())
                    .unwrap_or(0);
                let sign = if secs < 0 { '-' } else { '+' };
                let m = secs.unsigned_abs() / 60;
                format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
            }
        }
    }

    /// `yyyy-mm-dd` of the local day `t` falls on.
    pub fn iso_date(&self, t: Timestamp) -> String {
        self.date_of(t)
            .map(|z| z.date().to_string())
            .unwrap_or_default()
    }

    /// The instant a local day starts (midnight, or the first instant after
    /// a gap where a zone skips midnight).
    pub fn start_of(&self, day: Date) -> Option<Timestamp> {
        day.to_zoned(self.zone.clone())
            .ok()
            .map(|z| Timestamp(z.timestamp().as_millisecond()))
    }

    /// `YYYY-MM-DD` read as the start of that day in the shop's zone.
    pub fn parse_day(&self, s: &str) -> Option<Timestamp> {
        let day: Date = s.parse().ok()?;
        self.start_of(day)
    }

    /// The end of the local day `YYYY-MM-DD`: the start of the next one.
    pub fn parse_day_end(&self, s: &str) -> Option<Timestamp> {
        let day: Date = s.parse().ok()?;
        self.start_of(day.tomorrow().ok()?)
    }

    /// The last `n` local days up to the one `now` falls on, oldest first,
    /// each with the instant it starts and the instant the next one starts.
    pub fn last_days(&self, now: Timestamp, n: i64) -> Vec<(Date, Timestamp, Timestamp)> {
        let Some(today) = self.date_of(now).map(|z| z.date()) else {
            return Vec::new();
        };
        let mut days = Vec::new();
        let mut day = today;
        for _ in 0..n.max(1) {
            if let (Some(start), Some(end)) = (
                self.start_of(day),
                day.tomorrow().ok().and_then(|d| self.start_of(d)),
            ) {
                days.push((day, start, end));
            }
            match day.yesterday() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        days.reverse();
        days
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON_UTC_2026_12_01: i64 = 1_796_126_400_000;

    #[test]
    fn dates_as_sellers_read_them() {
        let utc = Calendar::new(None, 0);
        assert_eq!(utc.iso_date(Timestamp(0)), "1970-01-01");
        assert_eq!(utc.iso_date(Timestamp(951_782_400_000)), "2000-02-29");
        // 2026-11-22 00:55 UTC, shown in UTC and in Bangkok (UTC+7).
        let t = Timestamp(1_795_308_900_000);
        assert_eq!(utc.date_time(t), "22.11.2026 00:55");
        assert_eq!(Calendar::new(None, 7 * 60).date_time(t), "22.11.2026 07:55");
        let bangkok = Calendar::new(Some("Asia/Bangkok"), 0);
        assert_eq!(
            bangkok.clone().in_language("th").date_time(t),
            "22/11/2569 07:55"
        );
        assert_eq!(
            bangkok.clone().in_language("vi-VN").date_time(t),
            "22/11/2026 07:55"
        );
        assert_eq!(bangkok.in_language("fr").date_time(t), "22.11.2026 07:55");
    }

    #[test]
    fn bangkok_by_name_and_by_offset_agree() {
        let by_name = Calendar::new(Some("Asia/Bangkok"), 0);
        let by_offset = Calendar::new(None, 7 * 60);
        let t = Timestamp(NOON_UTC_2026_12_01);
        assert_eq!(by_name.date_time(t), "01.12.2026 19:00");
        assert_eq!(by_offset.date_time(t), "01.12.2026 19:00");
        // 18:00 UTC is already the next day in Bangkok.
        let late = Timestamp(NOON_UTC_2026_12_01 + 6 * 3_600_000);
        assert_eq!(by_name.iso_date(late), "2026-12-02");
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let cal = Calendar::new(Some("Asia/Ho_Chi_Minh"), 0);
        let start = cal.parse_day("2026-12-01").unwrap();
        assert_eq!(start.millis(), NOON_UTC_2026_12_01 - 19 * 3_600_000);
        assert_eq!(
            cal.parse_day_end("2026-12-01").unwrap().millis() - start.millis(),
            86_400_000
        );
        assert!(cal.parse_day("2026-13-01").is_none());
        assert!(cal.parse_day("yesterday").is_none());
    }

    #[test]
    fn days_across_a_daylight_saving_change_have_their_real_length() {
        // Europe/Berlin leaves summer time on 2026-10-25: a 25-hour day.
        let cal = Calendar::new(Some("Europe/Berlin"), 0);
        let now = cal.parse_day("2026-10-26").unwrap();
        let days = cal.last_days(now, 3);
        let lengths: Vec<i64> = days
            .iter()
            .map(|(_, s, e)| (e.millis() - s.millis()) / 3_600_000)
            .collect();
        assert_eq!(lengths, vec![24, 25, 24]);
    }

    #[test]
    fn an_unknown_zone_name_falls_back_to_the_offset() {
        assert!(!Calendar::knows("Mars/Olympus"));
        let cal = Calendar::new(Some("Mars/Olympus"), 7 * 60);
        assert_eq!(
            cal.date_time(Timestamp(NOON_UTC_2026_12_01)),
            "01.12.2026 19:00"
        );
    }
}
