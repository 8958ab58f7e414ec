//! Progress from an engine to the resource's `status.progress`, at most one write per period:
//! the engine's callback only records the latest value (it runs on the engine's hot path), and
//! a separate task writes whatever is newest once per tick.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

/// Velero updates progress at most once a second.
pub(crate) const PROGRESS_PERIOD: Duration = Duration::from_secs(1);

/// A callback for the engine and the receiver the writer reads from.
pub(crate) fn feed<T: Send + Sync + 'static>() -> (
    impl Fn(T) + Send + Sync + 'static,
    watch::Receiver<Option<T>>,
) {
    let (sender, receiver) = watch::channel(None);
    let callback = move |value: T| {
        sender.send_replace(Some(value));
    };
    (callback, receiver)
}

/// Writes the newest value at most once per `period` until `stop` fires (or its sender is
/// dropped); a write in flight is finished, never cut off.
pub(crate) async fn write_throttled<T, W, F>(
    mut latest: watch::Receiver<Option<T>>,
    period: Duration,
    mut stop: oneshot::Receiver<()>,
    mut write: W,
) where
    T: Clone,
    W: FnMut(T) -> F,
    F: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once; the status was just written by the phase change.
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticker.tick() => {}
        }
        match latest.has_changed() {
            Ok(true) => {
                let value = latest.borrow_and_update().clone();
                if let Some(value) = value {
                    write(value).await;
                }
            }
            Ok(false) => {}
            // The engine is done and dropped its callback: nothing more will come.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn writes_are_throttled_and_the_newest_value_wins() {
        let (callback, receiver) = feed::<u32>();
        let written = Arc::new(Mutex::new(Vec::new()));
        let (stop_sender, stop) = oneshot::channel();
        let sink = written.clone();
        let period = Duration::from_millis(100);
        let writer = tokio::spawn(write_throttled(receiver, period, stop, move |value| {
            sink.lock().unwrap().push((value, Instant::now()));
            async {}
        }));
        let started = Instant::now();
        for value in 1..=50 {
            callback(value);
            tokio::time::sleep(Duration::from_millis(7)).await;
        }
        let elapsed = started.elapsed();
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop_sender.send(()).unwrap();
        writer.await.unwrap();

        let written = written.lock().unwrap().clone();
        let most = usize::try_from(elapsed.as_millis() / 100 + 2).unwrap();
        assert!(
            !written.is_empty() && written.len() <= most,
            "{} writes in {elapsed:?}",
            written.len()
        );
        assert_eq!(
            written.last().unwrap().0,
            50,
            "the newest value is written last"
        );
        for pair in written.windows(2) {
            assert!(pair[1].1 - pair[0].1 >= Duration::from_millis(90));
        }
    }

    #[tokio::test]
    async fn nothing_is_written_without_progress() {
        let (_callback, receiver) = feed::<u32>();
        let (stop_sender, stop) = oneshot::channel();
        let count = Arc::new(Mutex::new(0));
        let sink = count.clone();
        let writer = tokio::spawn(write_throttled(
            receiver,
            Duration::from_millis(10),
            stop,
            move |_| {
                *sink.lock().unwrap() += 1;
                async {}
            },
        ));
        tokio::time::sleep(Duration::from_millis(60)).await;
        stop_sender.send(()).unwrap();
        writer.await.unwrap();
        assert_eq!(*count.lock().unwrap(), 0);
    }
}
