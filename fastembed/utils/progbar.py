"""Keras 3's training progress display: a bar with ETA and running metrics
(verbose=1) or one line per epoch (verbose=2)."""
import sys
import time


def _format_duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def _format_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _format_logs(logs):
    return "".join(f" - {name}: {value:.4f}" for name, value in logs.items())


class Progbar:
    """Progress of `target` steps (None: unknown, as for a generator without
    steps_per_epoch); update() redraws at most every `interval` s."""

    def __init__(self, target, verbose=1, width=20, interval=0.05, stream=None):
        self.target, self.verbose, self.width, self.interval = target, verbose, width, interval
        self.stream = stream or sys.stdout
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()

    def due(self):
        """Whether a redraw is due: check before building the logs to show."""
        return self.verbose == 1 and self._dynamic and \
            time.perf_counter() - self._last_draw >= self.interval

    def update(self, step, logs=None, finalize=False):
        now = time.perf_counter()
        if self.verbose != 1 or (not finalize and now - self._last_draw < self.interval):
            if finalize and self.verbose == 2:
                self._line(step, now, logs)
            return
        if not finalize and not self._dynamic:
            return  # a log file gets the final line only
        self._last_draw = now
        elapsed = now - self._start
        target = step if self.target is None else self.target
        filled = int(self.width * step / target) if target else self.width
        bar = "━" * filled + "\x1b[2m" + "━" * (self.width - filled) + "\x1b[0m" \
            if self._dynamic else "━" * self.width
        per_step = elapsed / step if step else 0.0
        timing = _format_duration(elapsed) if finalize else _format_duration(per_step * (target - step))
        text = (f"{step:>{len(str(target))}}/{self.target or 'Unknown'} {bar} {timing} "
                f"{_format_per_step(per_step)}{_format_logs(logs or {})}")
        self.stream.write(("\r" if self._dynamic else "") + text + ("\n" if finalize else ""))
        self.stream.flush()

    def _line(self, step, now, logs):
        elapsed = now - self._start
        per_step = elapsed / step if step else 0.0
        self.stream.write(f"{step}/{self.target} - {_format_duration(elapsed)} - "
                          f"{_format_per_step(per_step)}{_format_logs(logs or {})}\n")
        self.stream.flush()
