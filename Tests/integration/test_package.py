"""The Debian package (scripts/package) installed into a fresh Debian 12 root made with
mmdebstrap: apt resolves its Depends from Debian's mirror (no Swift there), then the pool is
started the way x2s3.socket + x2s3.service would start it (systemd cannot run in a chroot: the
test binds the socket as the socket unit says and hands it to ExecStart's command on fd 0, as
User=/Group=), and Debian's nginx with the installed site; objects are read byte-exactly from
outside. Then remove and purge. With podman: deploy/Containerfile built on the same root
(podman import) and read from the running container.

Slow (the first run downloads a Debian root, about 100 s) and needs root (chroot, mount), so it
runs only when X2S3_TEST_PACKAGE_DEB names the .deb: `scripts/test-package` builds it and runs
this file. The root tarball is cached in X2S3_PACKAGE_CACHE (default ~/.cache/x2s3), refreshed
after a week; downloaded .debs are kept there too."""

from __future__ import annotations

import os
import random
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config

from conftest import REPO, alive, children_of
from procs import free_port

DEB = os.environ.get("X2S3_TEST_PACKAGE_DEB", "")
pytestmark = pytest.mark.skipif(not DEB, reason="package test: run scripts/test-package")

CACHE = Path(os.environ.get("X2S3_PACKAGE_CACHE") or Path.home() / ".cache" / "x2s3")
SUITE = "bookworm"
MAX_AGE = 7 * 86400
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


def base_tarball() -> Path:
    """A --variant=apt Debian 12 root (essential packages + apt) with its package lists kept,
    so installing the .deb needs no `apt-get update` while the cache is fresh."""
    tar = CACHE / f"debian-{SUITE}-apt.tar"
    if tar.exists() and time.time() - tar.stat().st_mtime < MAX_AGE:
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = tar.with_suffix(".tmp.tar")
    subprocess.run(["mmdebstrap", "--quiet", "--variant=apt", "--skip=cleanup/apt/lists", SUITE, str(tmp)],
                   check=True, timeout=1200)
    tmp.rename(tar)
    return tar


def run_in(root: Path, *argv: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    out = subprocess.run(["chroot", str(root), *argv], env=APT_ENV, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, f"{shlex.join(argv)} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def unit(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.strip().partition("=")
            values[key] = value
    return values


def id_of(root: Path, table: str, name: str) -> int:
    for line in (root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"{name} not in the root's /etc/{table}")


class Root:
    """The extracted root with /proc, /dev/shm and the .deb cache mounted; unmounted and
    deleted at the end (only once nothing is mounted inside any more)."""

    def __init__(self, path: Path):
        self.path = path
        self.mounts: list[Path] = []

    def __enter__(self) -> "Root":
        self.path.mkdir()
        subprocess.run(["tar", "-xf", str(base_tarball()), "-C", str(self.path)], check=True)
        # No service may start inside: nginx's postinst would bind the host's port 80.
        policy = self.path / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
        archives = CACHE / "apt-archives"
        (archives / "partial").mkdir(parents=True, exist_ok=True)
        self.mount(["-t", "proc", "proc"], "proc")
        self.mount(["-t", "tmpfs", "tmpfs"], "dev/shm")
        self.mount(["--bind", str(archives)], "var/cache/apt/archives")
        return self

    def mount(self, how: list[str], where: str) -> None:
        target = self.path / where
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", *how, str(target)], check=True)
        self.mounts.append(target)

    def __exit__(self, *exc) -> None:
        for target in reversed(self.mounts):
            subprocess.run(["umount", str(target)], check=False)
        still = [m for m in self.mounts if os.path.ismount(m)]
        assert not still, f"could not unmount {still}: the root {self.path} is left in place"
        shutil.rmtree(self.path, ignore_errors=True)


def start_pool(root: Path) -> tuple[subprocess.Popen, Path]:
    """What systemd does for x2s3.socket, then x2s3.service (StandardInput=socket)."""
    sock_unit = unit(root / "lib/systemd/system/x2s3.socket")
    svc = unit(root / "lib/systemd/system/x2s3.service")
    assert svc["StandardInput"] == "socket" and sock_unit["Accept"] == "no"
    sock_path = root / sock_unit["ListenStream"].lstrip("/")
    sock_path.parent.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    os.chown(sock_path, id_of(root, "passwd", sock_unit["SocketUser"]), id_of(root, "group", sock_unit["SocketGroup"]))
    os.chmod(sock_path, int(sock_unit["SocketMode"], 8))
    listener.listen(int(sock_unit["Backlog"]))
    uid, gid = id_of(root, "passwd", svc["User"]), id_of(root, "group", svc["Group"])
    argv = shlex.split(svc["ExecStart"])
    assert argv[0] == "/usr/bin/x2s3" and "/etc/x2s3/config.yaml" in argv
    journal = open(root / "tmp/x2s3.journal", "wb")
    proc = subprocess.Popen(["chroot", f"--userspec={uid}:{gid}", str(root), *argv], stdin=listener.fileno(),
                            stdout=journal, stderr=subprocess.STDOUT, env={"PATH": APT_ENV["PATH"]},
                            start_new_session=True)
    listener.close()
    return proc, sock_path


def start_nginx(root: Path, port: int) -> subprocess.Popen:
    """Debian's nginx with the installed site, moved to a free loopback port (the host's network
    is shared) and without Debian's default site (port 80)."""
    site_path = root / "etc/nginx/sites-available/x2s3"
    site = site_path.read_text()
    assert "\n    listen 8080;\n" in site
    site_path.write_text(site.replace("\n    listen 8080;\n", f"\n    listen 127.0.0.1:{port};\n"))
    (root / "etc/nginx/sites-enabled/default").unlink(missing_ok=True)
    check = run_in(root, "nginx", "-t")
    assert "[warn]" not in check.stderr and "[emerg]" not in check.stderr, check.stderr
    proc = subprocess.Popen(["chroot", str(root), "nginx", "-g", "daemon off;"], env=APT_ENV,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, (root / "var/log/nginx/error.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nginx did not listen")


def stop(proc: subprocess.Popen, what: str) -> None:
    """SIGTERM to the leader (the pool drains; nginx's master stops its workers), then its
    children by PID if any outlived it."""
    kids = children_of(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 10
    while any(alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for k in kids:
        if alive(k):
            os.kill(k, signal.SIGKILL)
    assert not any(alive(k) for k in kids), f"{what}'s children outlived it"


def wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_package_installs_and_serves_in_fresh_debian(tmp_path):
    assert os.geteuid() == 0, "needs root (chroot, mount)"
    deb = Path(DEB)
    with Root(tmp_path / "root") as r:
        root = r.path
        assert not (root / "usr/bin/swift").exists() and not (root / "opt/swift").exists()
        shutil.copy(deb, root / "tmp" / deb.name)
        install = run_in(root, "apt-get", "install", "-y", "--no-install-recommends", f"/tmp/{deb.name}", check=False)
        if install.returncode != 0:  # the cached lists went stale: Debian moved on
            run_in(root, "apt-get", "update", "-q")
            run_in(root, "apt-get", "install", "-y", "--no-install-recommends", f"/tmp/{deb.name}")
        status = run_in(root, "dpkg-query", "-W", "-f", "${Status} ${Version}", "x2s3").stdout
        assert status.startswith("install ok installed"), status

        # Self-contained: every library resolves inside this Swift-less root, from Debian packages.
        ldd = run_in(root, "ldd", "/usr/bin/x2s3").stdout
        assert "not found" not in ldd and "swift" not in ldd.lower(), ldd
        for lib in (line.split("=>")[1].split()[0] for line in ldd.splitlines() if "=> /" in line):
            # Merged /usr: dpkg knows a library by the path its package ships, /lib or /usr/lib.
            names = [lib, "/usr" + lib] if lib.startswith("/lib/") else [lib]
            assert any(run_in(root, "dpkg", "-S", n, check=False).returncode == 0 for n in names), lib
        run_in(root, "x2s3", "--check-config", "--config", "/etc/x2s3/config.yaml")

        # postinst: the service user, the site enabled; conffiles registered.
        assert run_in(root, "id", "-un", "x2s3").stdout.strip() == "x2s3"
        assert os.readlink(root / "etc/nginx/sites-enabled/x2s3") == "../sites-available/x2s3"
        conffiles = (root / "var/lib/dpkg/info/x2s3.conffiles").read_text().split()
        assert "/etc/x2s3/config.yaml" in conffiles and "/etc/nginx/sites-available/x2s3" in conffiles

        # A bigger object of our own, added the way an admin would: a target in the config,
        # then systemctl reload (ExecReload: SIGHUP).
        rng = random.Random(14)
        big = rng.getrandbits(8 * 3_000_017).to_bytes(3_000_017, "little")
        (root / "srv/data/sub").mkdir(parents=True)
        (root / "srv/data/sub/big.bin").write_bytes(big)
        port = free_port()
        pool, sock_path = start_pool(root)
        nginx = None
        try:
            wait_for(lambda: len(children_of(pool.pid)) >= 1, 20, "the pool's workers")
            nginx = start_nginx(root, port)
            base = f"http://127.0.0.1:{port}"
            s = requests.Session()
            s.trust_env = False
            for name in ("hello.txt", "README.txt", "example.zarr/.zarray", "example.zarr/0.0"):
                resp = s.get(f"{base}/demo/{name}", timeout=30)
                assert resp.status_code == 200, resp.text[:300]
                assert resp.content == (REPO / "demo" / name).read_bytes()
            s3 = boto3.client("s3", endpoint_url=base, region_name="us-east-1",
                              config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="demo")["Contents"]]
            want = sorted(str(p.relative_to(REPO / "demo")) for p in (REPO / "demo").rglob("*") if p.is_file())
            assert keys == want
            # The load balancer's probe and the metrics (allowed from this host by default).
            health = s.get(f"{base}/_x2s3/health", timeout=30)
            assert health.status_code == 200 and health.headers["Cache-Control"] == "no-store", health.text
            metrics = s.get(f"{base}/_x2s3/metrics", timeout=30)
            assert metrics.status_code == 200 and 'x2s3_requests_total{operation="GetObject",status="200",bucket="demo"}' in metrics.text
            # nginx's own errors come from the installed errors.conf: S3 XML with a request id.
            resp = s.get(f"{base}/demo/%00", timeout=30)
            assert resp.status_code == 400 and "<Code>InvalidURI</Code>" in resp.text, resp.text
            assert resp.headers["x-amz-request-id"] in resp.text

            config = root / "etc/x2s3/config.yaml"
            config.write_text(config.read_text() + "  - name: data\n    client: file\n    options:\n      path: /srv/data\n")
            svc = unit(root / "lib/systemd/system/x2s3.service")
            subprocess.run(shlex.split(svc["ExecReload"].replace("$MAINPID", str(pool.pid))), check=True)
            wait_for(lambda: s.head(f"{base}/data/sub/big.bin", timeout=30).status_code == 200, 20, "the reload")
            assert s3.get_object(Bucket="data", Key="sub/big.bin")["Body"].read() == big
            resp = s.get(f"{base}/data/sub/big.bin", headers={"Range": "bytes=1000000-1000099"}, timeout=30)
            assert resp.status_code == 206 and resp.content == big[1_000_000:1_000_100]
            access = (root / "var/log/nginx/x2s3.access.log").read_text()
            assert "GET /data/sub/big.bin" in access and "rid=" in access
        finally:
            if nginx:
                stop(nginx, "nginx")
            stop(pool, "the pool")
            sock_path.unlink(missing_ok=True)
        assert pool.returncode == 0, (root / "tmp/x2s3.journal").read_text()[-2000:]

        # An upgrade (the same version again): the admin's conffile edits stay, the site stays.
        run_in(root, "apt-get", "install", "-y", "--reinstall", "-o", "Dpkg::Options::=--force-confold",
               f"/tmp/{deb.name}")
        assert "path: /srv/data" in (root / "etc/x2s3/config.yaml").read_text()
        assert os.readlink(root / "etc/nginx/sites-enabled/x2s3") == "../sites-available/x2s3"

        # remove: binary gone, site disabled, nginx's config still valid, conffiles kept;
        # purge: conffiles gone. The system user stays (Debian's habit).
        run_in(root, "apt-get", "remove", "-y", "x2s3")
        assert not (root / "usr/bin/x2s3").exists()
        assert not os.path.lexists(root / "etc/nginx/sites-enabled/x2s3")
        assert (root / "etc/x2s3/config.yaml").exists()
        run_in(root, "nginx", "-t", "-q")
        run_in(root, "apt-get", "purge", "-y", "x2s3")
        assert not (root / "etc/x2s3").exists() and not (root / "etc/nginx/x2s3").exists()
        assert not (root / "etc/nginx/sites-available/x2s3").exists()
        run_in(root, "nginx", "-t", "-q")


def podman_flags() -> list[str]:
    """Run-time flags this machine kind needs (docs/install.md#container-image): crun cannot
    run under hybrid cgroups v1 (runc can), and podman's default RLIMIT_NOFILE/NPROC for root
    exceed what the runtime may set here (setrlimit EPERM), so the container gets the current
    open-files limit and a process limit that was measured to pass (32768: 65536 did not, for a
    hard limit of 96367)."""
    flags = []
    if shutil.which("runc"):
        flags += ["--runtime", "runc"]
    for name, limit, cap in (("nofile", resource.RLIMIT_NOFILE, 1 << 20), ("nproc", resource.RLIMIT_NPROC, 32768)):
        hard = resource.getrlimit(limit)[1]
        value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
        flags += ["--ulimit", f"{name}={value}:{value}"]
    return flags


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
def test_container_image(tmp_path):
    """deploy/Containerfile on a base made by mmdebstrap | podman import (no registry needed)."""
    deb = Path(DEB)
    tarball = base_tarball()
    base = f"localhost/x2s3-test-base:{SUITE}-{int(tarball.stat().st_mtime)}"  # follows the cache
    tag = f"localhost/x2s3-test:{os.getpid()}"
    name = f"x2s3-test-{os.getpid()}"
    flags = podman_flags()
    if subprocess.run(["podman", "image", "exists", base]).returncode != 0:
        subprocess.run(["podman", "import", "--quiet", str(tarball), base], check=True, capture_output=True)
    # The build context: the repo's deploy/ and the .deb under dist/, as the Containerfile says.
    ctx = tmp_path / "ctx"
    (ctx / "deploy").mkdir(parents=True)
    (ctx / "dist").mkdir()
    for f in ("Containerfile", "container-entrypoint.sh"):
        shutil.copy2(REPO / "deploy" / f, ctx / "deploy" / f)
    shutil.copy(deb, ctx / "dist" / deb.name)
    build = subprocess.run(["podman", "build", *flags, "--quiet", "-f", "deploy/Containerfile",
                            "--build-arg", f"BASE={base}", "--build-arg", f"DEB=dist/{deb.name}", "-t", tag, "."],
                           cwd=ctx, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    port = free_port()
    try:
        run = subprocess.run(["podman", "run", "-d", *flags, "--name", name, "-p", f"127.0.0.1:{port}:8080", tag],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        s = requests.Session()
        s.trust_env = False
        base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return s.get(f"{base_url}/_x2s3/health", timeout=5).status_code == 200
            except requests.RequestException:
                return False
        wait_for(answers, 30, "the container to answer")
        for name_ in ("hello.txt", "example.zarr/0.1"):
            r = s.get(f"{base_url}/demo/{name_}", timeout=30)
            assert r.status_code == 200 and r.content == (REPO / "demo" / name_).read_bytes()
        # podman stop: SIGTERM to the entrypoint, which drains the pool and stops nginx: exit 0.
        subprocess.run(["podman", "stop", "-t", "20", name], check=True, capture_output=True, timeout=60)
        code = subprocess.run(["podman", "inspect", name, "--format", "{{.State.ExitCode}}"],
                              capture_output=True, text=True).stdout.strip()
        out = subprocess.run(["podman", "logs", name], capture_output=True, text=True)
        logs = out.stdout + out.stderr
        assert code == "0", logs[-2000:]
        assert "pool stopped" in logs
    finally:
        subprocess.run(["podman", "rm", "-f", name], capture_output=True)
        subprocess.run(["podman", "rmi", "-f", tag], capture_output=True)
