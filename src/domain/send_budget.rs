//! How fast one Page may be sent to. Meta accepts 300 Send API calls a
//! second per Page and answers a rate-limit error beyond that; a flash sale
//! is exactly when a bot would cross it. So every instance draws its sends
//! from one token bucket per Page (the shell keeps it in the database), and
//! a rate-limit answer pauses the whole Page instead of burning each
//! message's attempts.

use super::Timestamp;

/// Send API calls per second for one Page, across all instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendRate {
    per_second: u32,
}

/// Below Meta's 300 calls/s with the burst and a multi-part message's
/// overshoot added (see [`Bucket::take`]): 250 + 25 + a few < 300.
pub const DEFAULT_SEND_RATE: u32 = 250;

/// The first pause after a rate-limit answer that names no wait; a repeat
/// soon after doubles it, up to [`MAX_BLIND_PAUSE_MS`]. Meta's own estimate
/// may pause longer, up to [`MAX_PAUSE_MS`].
pub const FIRST_PAUSE_MS: i64 = 2_000;
/// Without Meta's estimate the limit is most likely the per-second one, so
/// doubling on and on would only idle the Page for nothing.
pub const MAX_BLIND_PAUSE_MS: i64 = 60_000;
pub const MAX_PAUSE_MS: i64 = 15 * 60_000;
/// After a rate-limit answer the Page resumes at three quarters of the rate
/// it had, and climbs back to the configured rate over this long: when Meta
/// allows a Page less than configured, the rate settles below that instead
/// of tripping the limit on every resume.
pub const RECOVERY_MS: i64 = 5 * 60_000;

impl SendRate {
    /// No pacing at all: for a Graph API stand-in, or a Page Meta allows more.
    pub const UNLIMITED: SendRate = SendRate { per_second: 0 };

    pub fn per_second(per_second: u32) -> SendRate {
        SendRate { per_second }
    }

    pub fn is_unlimited(self) -> bool {
        self.per_second == 0
    }

    pub fn get(self) -> u32 {
        self.per_second
    }

    /// The most calls that may leave at once: a tenth of a second's worth.
    pub fn burst(self) -> i64 {
        (i64::from(self.per_second) / 10).max(1)
    }

    /// How long an empty bucket takes to refill a whole burst. A sender out
    /// of budget waits this long, so it claims and renders a burst's worth of
    /// messages per pass instead of one message per token.
    pub fn refill_ms(self) -> i64 {
        if self.is_unlimited() {
            return 0;
        }
        let per_second = i64::from(self.per_second);
        (self.burst() * 1000 + per_second - 1) / per_second
    }
}

/// One Page's budget. Counted in thousandths of a call, so a refill at any
/// rate over any number of milliseconds stays exact in integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub milli_calls: i64,
    pub refilled_at: Timestamp,
    pub paused_until: Timestamp,
    /// How long the last pause was; a rate-limit answer soon after it ended
    /// doubles it.
    pub last_pause_ms: i64,
    /// Calls per second the Page resumed at after its last rate-limit
    /// answer (0: never limited); see [`RECOVERY_MS`].
    pub throttled_rate: i64,
}

/// How many of the queued messages may go now, and when to ask again for
/// the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub messages: usize,
    pub retry_at: Option<Timestamp>,
}

impl Bucket {
    pub fn full(rate: SendRate, now: Timestamp) -> Bucket {
        Bucket {
            milli_calls: rate.burst() * 1000,
            refilled_at: now,
            paused_until: Timestamp(0),
            last_pause_ms: 0,
            throttled_rate: 0,
        }
    }

    /// Calls per second this Page may use now: the configured rate, or less
    /// while it recovers from a rate-limit answer.
    pub fn current_rate(&self, now: Timestamp, rate: SendRate) -> i64 {
        let full = i64::from(rate.get());
        if self.throttled_rate <= 0 || self.throttled_rate >= full {
            return full;
        }
        let since = (now.millis() - self.paused_until.millis()).clamp(0, RECOVERY_MS);
        self.throttled_rate + (full - self.throttled_rate) * since / RECOVERY_MS
    }

    /// Grants messages in queue order; `calls[i]` is how many Send API calls
    /// message `i` needs (its parts). A message goes while at least one whole
    /// call is in the bucket and takes all of its calls, so the bucket can go
    /// briefly into debt: within any `t` ms at most `burst + rate·t/1000 +
    /// (largest message − 1)` calls are granted. A message never waits for
    /// more room than the burst holds.
    pub fn take(self, now: Timestamp, rate: SendRate, calls: &[u32]) -> (Bucket, Grant) {
        if rate.is_unlimited() {
            let grant = Grant {
                messages: calls.len(),
                retry_at: None,
            };
            return (self, grant);
        }
        if now < self.paused_until {
            let grant = Grant {
                messages: 0,
                retry_at: (!calls.is_empty()).then_some(self.paused_until),
            };
            return (self, grant);
        }
        let per_second = self.current_rate(now, rate).max(1);
        let burst = (per_second / 10).max(1);
        let mut bucket = self;
        // Instances' clocks differ a little: time never runs backwards here.
        let elapsed = (now.millis() - bucket.refilled_at.millis()).max(0);
        bucket.milli_calls = bucket
            .milli_calls
            .saturating_add(elapsed.saturating_mul(per_second))
            .min(burst * 1000);
        bucket.refilled_at = Timestamp(bucket.refilled_at.millis().max(now.millis()));
        let mut messages = 0;
        for &n in calls {
            if bucket.milli_calls < 1000 {
                break;
            }
            bucket.milli_calls -= i64::from(n.max(1)) * 1000;
            messages += 1;
        }
        let retry_at = (messages < calls.len()).then(|| {
            let missing = 1000 - bucket.milli_calls;
            // Round up: asking a millisecond early would find it still short.
            Timestamp(now.millis() + (missing + per_second - 1) / per_second)
        });
        (bucket, Grant { messages, retry_at })
    }

    /// Meta answered with a rate limit: nothing goes to this Page for a
    /// while, and then it goes slower for a while. `suggested_ms` is Meta's
    /// own estimate when it gave one. Several answers to one burst (sends in
    /// flight together) pause once.
    pub fn pause(self, now: Timestamp, rate: SendRate, suggested_ms: Option<i64>) -> Bucket {
        let suggested = suggested_ms.unwrap_or(0).clamp(0, MAX_PAUSE_MS);
        if now < self.paused_until {
            let wanted = Timestamp(now.millis() + suggested);
            return Bucket {
                paused_until: self.paused_until.max(wanted),
                ..self
            };
        }
        // Throttled again within a pause's length of the last one ending:
        // the last pause was too short.
        let soon_again = self.last_pause_ms > 0
            && now.millis() < self.paused_until.millis() + 2 * self.last_pause_ms;
        let ours = if soon_again {
            (self.last_pause_ms * 2).min(MAX_BLIND_PAUSE_MS)
        } else {
            FIRST_PAUSE_MS
        };
        let pause = ours.max(suggested);
        let throttled_rate = if rate.is_unlimited() {
            0
        } else {
            (self.current_rate(now, rate) * 3 / 4).max(1)
        };
        Bucket {
            milli_calls: 0,
            refilled_at: Timestamp(now.millis() + pause),
            paused_until: Timestamp(now.millis() + pause),
            last_pause_ms: pause,
            throttled_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp(1_700_000_000_000);

    fn at(ms: i64) -> Timestamp {
        Timestamp(T0.millis() + ms)
    }

    #[test]
    fn a_full_bucket_lets_a_burst_go_then_paces_the_rest() {
        let rate = SendRate::per_second(250);
        let b = Bucket::full(rate, T0);
        let (b, g) = b.take(T0, rate, &[1; 40]);
        assert_eq!(g.messages, 25, "a tenth of a second's worth at once");
        assert_eq!(g.retry_at, Some(at(4)), "one call every 4 ms after that");
        assert_eq!(rate.refill_ms(), 100, "a whole burst again after 100 ms");
        let (b, g) = b.take(at(3), rate, &[1; 15]);
        assert_eq!(g.messages, 0);
        assert_eq!(g.retry_at, Some(at(4)));
        let (_, g) = b.take(at(40), rate, &[1; 15]);
        assert_eq!(g.messages, 10, "40 ms at 250/s");
    }

    #[test]
    fn a_multi_part_message_goes_whole_and_the_next_waits_for_its_debt() {
        let rate = SendRate::per_second(10);
        let b = Bucket::full(rate, T0);
        assert_eq!(rate.burst(), 1);
        let (b, g) = b.take(T0, rate, &[3, 1]);
        assert_eq!(g.messages, 1, "the first message takes its three calls");
        // Two calls of debt plus the next whole one: 300 ms at 10/s.
        assert_eq!(g.retry_at, Some(at(300)));
        let (_, g) = b.take(at(300), rate, &[1]);
        assert_eq!(g.messages, 1);
    }

    #[test]
    fn unlimited_grants_everything_and_keeps_no_state() {
        let b = Bucket::full(SendRate::UNLIMITED, T0);
        let (after, g) = b.take(T0, SendRate::UNLIMITED, &[2; 500]);
        assert_eq!(g.messages, 500);
        assert_eq!(g.retry_at, None);
        assert_eq!(after, b);
    }

    #[test]
    fn a_rate_limit_answer_pauses_the_page_and_a_repeat_doubles_the_pause() {
        let rate = SendRate::per_second(250);
        let b = Bucket::full(rate, T0).pause(T0, rate, None);
        assert_eq!(b.paused_until, at(FIRST_PAUSE_MS));
        let (_, g) = b.take(at(1000), rate, &[1]);
        assert_eq!(g.messages, 0);
        assert_eq!(g.retry_at, Some(at(FIRST_PAUSE_MS)));

        // More answers from the same burst do not stretch it.
        let same = b.pause(at(10), rate, None);
        assert_eq!(same.paused_until, b.paused_until);

        // After the pause the bucket fills again from empty, at 187/s.
        let (b2, g) = b.take(at(FIRST_PAUSE_MS), rate, &[1]);
        assert_eq!(g.messages, 0, "resumes from an empty bucket");
        assert_eq!(g.retry_at, Some(at(FIRST_PAUSE_MS + 6)));
        let (_, g) = b2.take(at(FIRST_PAUSE_MS + 6), rate, &[1]);
        assert_eq!(g.messages, 1);

        // Throttled again right after resuming: twice as long.
        let again = b.pause(at(FIRST_PAUSE_MS + 100), rate, None);
        assert_eq!(again.last_pause_ms, 2 * FIRST_PAUSE_MS);
        // Much later, a fresh episode starts from the first pause again.
        let later = b.pause(at(10 * 60_000), rate, None);
        assert_eq!(later.last_pause_ms, FIRST_PAUSE_MS);

        // Throttled on every resume: the pause stops growing at a minute.
        let mut b = Bucket::full(rate, T0);
        let mut now = T0;
        for _ in 0..12 {
            b = b.pause(now, rate, None);
            now = b.paused_until;
        }
        assert_eq!(b.last_pause_ms, MAX_BLIND_PAUSE_MS);
    }

    #[test]
    fn meta_s_own_estimate_wins_when_longer_and_pauses_are_capped() {
        let rate = SendRate::per_second(250);
        let b = Bucket::full(rate, T0).pause(T0, rate, Some(5 * 60_000));
        assert_eq!(b.paused_until, at(5 * 60_000));
        let b = Bucket::full(rate, T0).pause(T0, rate, Some(24 * 3_600_000));
        assert_eq!(b.paused_until, at(MAX_PAUSE_MS));
        // A longer estimate during a pause extends it.
        let short = Bucket::full(rate, T0).pause(T0, rate, None);
        let longer = short.pause(at(100), rate, Some(60_000));
        assert_eq!(longer.paused_until, at(60_100));
    }

    #[test]
    fn a_limited_page_resumes_slower_and_climbs_back_to_its_rate() {
        let rate = SendRate::per_second(200);
        let b = Bucket::full(rate, T0).pause(T0, rate, None);
        let resume = b.paused_until;
        assert_eq!(b.current_rate(resume, rate), 150);
        let halfway = Timestamp(resume.millis() + RECOVERY_MS / 2);
        assert_eq!(b.current_rate(halfway, rate), 175);
        let after = Timestamp(resume.millis() + RECOVERY_MS);
        assert_eq!(b.current_rate(after, rate), 200);

        // Limited again while still slow: slower still, never below 1/s.
        let again = b.pause(halfway, rate, None);
        assert_eq!(again.throttled_rate, 175 * 3 / 4);
        let mut slow = Bucket::full(rate, T0);
        let mut now = T0;
        for _ in 0..40 {
            slow = slow.pause(now, rate, None);
            now = slow.paused_until;
        }
        assert_eq!(slow.current_rate(now, rate), 1);
        let (_, g) = slow.take(Timestamp(now.millis() + 1000), rate, &[1, 1]);
        assert_eq!(g.messages, 1, "one call a second");

        // Without pacing there is no rate to lower.
        let off = Bucket::full(SendRate::UNLIMITED, T0).pause(T0, SendRate::UNLIMITED, None);
        assert_eq!(off.throttled_rate, 0);
    }

    #[test]
    fn a_clock_behind_the_last_refill_grants_nothing_extra() {
        let rate = SendRate::per_second(100);
        let (b, g) = Bucket::full(rate, at(1000)).take(at(1000), rate, &[1; 10]);
        assert_eq!(g.messages, 10);
        let (b, g) = b.take(at(500), rate, &[1]);
        assert_eq!(g.messages, 0);
        assert_eq!(b.refilled_at, at(1000));
    }

    proptest! {
        /// Whatever the pattern of asks, no second ever carries more than
        /// rate + burst + (largest message − 1) calls.
        #[test]
        fn no_window_of_a_second_exceeds_the_rate(
            rate in 1u32..400,
            asks in proptest::collection::vec((0i64..200, proptest::collection::vec(1u32..4, 0..40)), 1..120),
        ) {
            let rate = SendRate::per_second(rate);
            let mut bucket = Bucket::full(rate, T0);
            let mut now = T0;
            let mut granted: Vec<(i64, i64)> = Vec::new();
            for (gap, calls) in &asks {
                now = Timestamp(now.millis() + gap);
                let (b, g) = bucket.take(now, rate, calls);
                bucket = b;
                let n: i64 = calls[..g.messages].iter().map(|c| i64::from(*c)).sum();
                granted.push((now.millis(), n));
                if g.messages < calls.len() {
                    let retry = g.retry_at.expect("a refusal says when to ask again");
                    prop_assert!(retry > now);
                }
            }
            let bound = i64::from(rate.get()) + rate.burst() + 2;
            for (i, (start, _)) in granted.iter().enumerate() {
                let in_window: i64 = granted[i..]
                    .iter()
                    .take_while(|(t, _)| *t < start + 1000)
                    .map(|(_, n)| n)
                    .sum();
                prop_assert!(in_window <= bound, "{in_window} calls in a second, bound {bound}");
            }
        }
    }
}
