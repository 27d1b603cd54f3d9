"""CPU time and resident memory of a process tree, read from /proc (Linux): the one place the
benchmarks measure processes.

Used by the benchmarks to measure Spark's JVM and its Python workers, which are not children of
the benchmark's own process, and DataTrove's worker pools. Hand-written in a few lines instead of
adding psutil to the project.

- `tree_cpu_seconds(pid)`: CPU of a living tree now (with its reaped children), for before/after deltas.
- `TreeCPU(pid)`: samples a tree's CPU in the background, so a finished process's CPU still counts;
  with `become_subreaper()` + `reap_all()` + `children_cpu()` a command's whole tree is measured twice.
- `MemorySampler(jvm_pid)`: peak RSS of a JVM and of the Python workers below it.
"""
from __future__ import annotations

import ctypes
import os
import resource
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()  # fields from `state` on; comm may hold spaces


def descendants(root: int) -> list[int]:
    """root and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of the tree, including children already reaped by a living member."""
    total = 0
    for pid in descendants(root):
        fields = _stat(pid)
        if fields:
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / TICKS


def _comm(pid: int, tid: int | None = None) -> str:
    path = f"/proc/{pid}/task/{tid}/comm" if tid is not None else f"/proc/{pid}/comm"
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


# JVM threads by what they do (HotSpot thread names): compiling, collecting, running Spark tasks, the rest.
JVM_THREAD_GROUPS = (("JIT compiler", ("C1 CompilerThre", "C2 CompilerThre")),
                     ("GC", ("GC Thread", "G1 ", "VM Thread", "GC ", "ParGC", "VM Periodic")),
                     ("Spark tasks", ("Executor task", "stdout writer", "stderr reader", "Worker Monitor")))


def jvm_thread_group(name: str) -> str:
    for group, prefixes in JVM_THREAD_GROUPS:
        if name.startswith(prefixes):
            return group
    return "JVM other"


class TreeCPU:
    """Samples the CPU seconds of a process tree (last value seen per process), for per-stage splits.

    Unlike `tree_cpu_seconds`, a process keeps counting after it exits (its last sample stands), and
    children's reaped time (cutime, cstime) is left out, since those children were sampled themselves.
    `by_kind()` splits the total: the root process (Spark's driver Python), Java processes (the JVM,
    and with `jvm_threads` its threads by group: JIT compiler, GC, Spark tasks, other) and the Python
    processes below them (Spark's Python workers)."""

    def __init__(self, root: int, interval: float = 0.2, jvm_threads: bool = False):
        self.root, self.interval, self.jvm_threads = root, interval, jvm_threads
        self.seen: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.threads: dict[tuple[int, int], tuple[str, float]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def _kind(self, pid: int) -> str:
        kind = self.kinds.get(pid)
        if kind is None:
            comm = _comm(pid)
            kind = "driver" if pid == self.root else "jvm" if comm == "java" else \
                "python workers" if comm.startswith("python") else "other"
            if kind != "other":  # a launcher script that later execs java is asked again
                self.kinds[pid] = kind
        return kind

    def _sample_threads(self, pid: int) -> None:
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            return
        for tid in tids:
            try:
                raw = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            name = raw[raw.index("(") + 1:raw.rfind(")")]
            fields = raw[raw.rfind(")") + 2:].split()
            self.threads[(pid, tid)] = (jvm_thread_group(name), (int(fields[11]) + int(fields[12])) / TICKS)

    def sample(self) -> float:
        if self._stop.is_set():  # the command has ended: its processes are gone, the last values stand
            return sum(self.seen.values())
        with self._lock:
            for pid in descendants(self.root):
                fields = _stat(pid)
                if fields:
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
                    if self.jvm_threads and self._kind(pid) == "jvm":
                        self._sample_threads(pid)
            return sum(self.seen.values())

    def by_kind(self) -> dict[str, float]:
        """CPU seconds so far per kind of process, the JVM's split by thread group when sampled."""
        with self._lock:
            out: dict[str, float] = {}
            for pid, seconds in self.seen.items():
                kind = self._kind(pid)
                out[kind] = out.get(kind, 0.0) + seconds
            if self.jvm_threads and out.get("jvm"):
                groups: dict[str, float] = {}
                for group, seconds in self.threads.values():
                    groups[group] = groups.get(group, 0.0) + seconds
                for group, seconds in groups.items():
                    out[f"jvm: {group}"] = seconds
            return out

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def become_subreaper() -> None:
    """Orphans of the commands we start (Spark's Python workers, DataTrove's pools) are re-parented to us,
    so that reaping them adds their CPU time to RUSAGE_CHILDREN."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_all(deadline_s: float = 60) -> None:
    """Wait for every child (and re-parented orphan) of this process, at most `deadline_s` seconds."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                print("warning: processes still running after the command ended; their CPU is not counted")
                return
            time.sleep(0.1)


def children_cpu() -> float:
    """User + system CPU seconds of every reaped child of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def peak_rss_bytes(pid: int) -> int:
    """VmHWM: the process's own high-water mark of resident memory."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the RSS of a JVM and of the Python workers below it until stopped.

    Keeps, per process, the largest RSS seen while sampling (so two samplers over two runs of one
    session compare the runs) and its VmHWM (the kernel's peak over the process's whole life), plus
    the peak of the Python workers' summed RSS.
    """

    def __init__(self, jvm_pid: int, interval: float = 0.25):
        self.jvm_pid, self.interval = jvm_pid, interval
        self.sampled: dict[int, tuple[str, int]] = {}
        self.hwm: dict[int, int] = {}
        self.python_sum_peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            python_sum = 0
            for pid in descendants(self.jvm_pid):
                kind = "jvm" if pid == self.jvm_pid else ("python" if "python" in cmdline(pid) else "other")
                rss = rss_bytes(pid)
                self.sampled[pid] = (kind, max(rss, self.sampled.get(pid, (kind, 0))[1]))
                self.hwm[pid] = max(peak_rss_bytes(pid), self.hwm.get(pid, 0))
                if kind == "python":
                    python_sum += rss
            self.python_sum_peak = max(self.python_sum_peak, python_sum)
            self.samples += 1
            self._stop.wait(self.interval)

    def jvm_peak(self) -> int:
        return self.sampled.get(self.jvm_pid, ("jvm", 0))[1]

    def python_peaks(self) -> list[int]:
        return sorted((peak for kind, peak in self.sampled.values() if kind == "python"), reverse=True)


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"
