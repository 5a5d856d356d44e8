"""A customer's repository is hostile input twice over: its URL picks the program git runs, and its
credential must never leave the secret store except into the one git command that needs it.

- URLs: ``ext::``/``fd::`` and every other ``transport::`` form, option-like hosts and paths,
  local paths, plain http, credentials in the URL, queries and control characters are refused with
  a message; ``file://`` only where the setting allows it; and even a URL that got past the
  checks cannot make git use another transport than the one it was checked for.
- Secrets: the token a member types is stored encrypted (MultiFernet, keys from the settings,
  rotation re-encrypts), never appears in a page (not even the page re-shown after an error), an
  event, a task report, a job failure or a log line — including when git fails talking to the
  remote with it.
- The connection page is a tenant's: another tenant's user and an outsider get 404, a viewer may
  read but not connect.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.hostgit import GitError, git_remote_run, git_run
from agents.providers import JobContext, JobFailed, JobSpec
from agents.providers.builtin import BuiltinProvider
from agents.remotes import RemoteError, history_velocity, remote_parse
from projects.delivery.repository import repository_job_inputs, secrets_rotate
from projects.models import Engagement, Event, Project, RepositoryConnection, Service
from tenants.secrets import Revealed, SecretStoreError, secret_decrypt, secret_encrypt, secret_rotate
from tests.team_remote import plain_git, team_remote
from tests.world import World

URLCONF = "hive.urls_tenant"
TOKEN = "ghp_TopSecretToken0123456789abcdefXYZ"
KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAdeadbeefSECRETKEYMATERIAL\n"
    "-----END OPENSSH PRIVATE KEY-----"
)

HOSTILE = [
    "ext::sh -c touch% /tmp/pwned",
    "EXT::sh -c id",
    "fd::17",
    "fd::0,1/repo",
    "transport::whatever",
    "-oProxyCommand=touch /tmp/pwned",
    "ssh://-oProxyCommand=touch%20pwned/repo.git",
    "git@-oProxyCommand=x:repo.git",
    "ssh://git@host/-upload-pack=touch/repo.git",
    "https://host/--upload-pack=evil",
    "/etc/passwd",
    "../other-tenant/repository.git",
    "http://git.example.com/team/app.git",
    "https://user:password@git.example.com/team/app.git",
    f"https://{TOKEN}@github.com/team/app.git",
    "ssh://git:secret@git.example.com/team/app.git",
    "https://git.example.com/team/app.git?upload-pack=evil",
    "https://git.example.com/team/app.git#frag",
    "https://git.example.com/team/app.git\n--upload-pack=x",
    "https://git.example.com/team app.git",
    "ftp://git.example.com/team/app.git",
    "git://git.example.com/team/app.git",
    "https:///nohost",
    "https://git.example.com/team/../../etc",
    "",
    "https://git.example.com/" + "a" * 600,
]


@pytest.mark.parametrize("url", HOSTILE)
def test_it_refuses_hostile_remote_urls(url: str) -> None:
    with pytest.raises(RemoteError):
        remote_parse(url)


def test_it_accepts_the_ordinary_forms_and_normalises_the_short_ssh_one(settings: Any) -> None:
    assert remote_parse(" https://github.com/team/app.git ").url == "https://github.com/team/app.git"
    assert remote_parse("ssh://git@gitlab.example.com:2222/team/app.git").scheme == "ssh"
    assert remote_parse("git@github.com:team/app.git").url == "ssh://git@github.com/team/app.git"
    settings.HIVE_GIT_ALLOW_FILE_REMOTES = True
    assert remote_parse("file:///srv/team/app.git").scheme == "file"
    settings.HIVE_GIT_ALLOW_FILE_REMOTES = False
    with pytest.raises(RemoteError, match="file:// repositories are not accepted"):
        remote_parse("file:///srv/team/app.git")


def test_git_never_runs_another_transport_than_the_checked_one(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    git_dir = tmp_path / "probe.git"
    git_dir.mkdir()
    git_run("init", "-q", "--bare", "--template=", git_dir=git_dir)
    for scheme in ("file", "https", "ssh"):
        with pytest.raises(GitError):
            git_remote_run("ls-remote", f"ext::sh -c touch% {marker}", git_dir=git_dir, scheme=scheme, timeout=20)
        with pytest.raises(GitError):
            git_remote_run("ls-remote", "fd::0", git_dir=git_dir, scheme=scheme, timeout=20)
    assert not marker.exists()
    with pytest.raises(ValueError):
        git_remote_run("ls-remote", "x", git_dir=git_dir, scheme="ext")
    with pytest.raises(ValueError):  # only the credential's own variables reach git
        git_remote_run("ls-remote", "x", git_dir=git_dir, scheme="https", environment={"GIT_DIR": "/"})


def test_the_store_encrypts_rotates_and_refuses_without_keys(settings: Any) -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HIVE_SECRET_KEYS = [old]
    token = secret_encrypt(TOKEN)
    assert TOKEN not in token and secret_decrypt(token).value == TOKEN
    shown = secret_decrypt(token)
    assert TOKEN not in f"{shown} {shown!r}" and isinstance(shown, Revealed)
    settings.HIVE_SECRET_KEYS = [new, old]
    rotated = secret_rotate(token)
    settings.HIVE_SECRET_KEYS = [new]
    assert secret_decrypt(rotated).value == TOKEN
    with pytest.raises(SecretStoreError):
        secret_decrypt(token)  # the old key is gone: only the rotated token opens
    settings.HIVE_SECRET_KEYS = []
    with pytest.raises(SecretStoreError, match="no keys"):
        secret_encrypt(TOKEN)


def test_less_than_a_week_of_history_gives_no_velocity_baseline_and_a_long_one_counts_twelve_weeks(
    tmp_path: Path,
) -> None:
    now = timezone.now()
    short = tmp_path / "short"
    short.mkdir()
    plain_git("init", "-q", "-b", "main", cwd=short)
    for days in (3, 2):
        (short / "f.txt").write_text(str(days))
        plain_git("add", "-A", cwd=short)
        plain_git("commit", "-q", "-m", f"{days}", cwd=short, when=(now - timedelta(days=days)).isoformat())
    velocity = history_velocity(git_dir=short / ".git", ref="main", before=now)
    assert velocity.per_week is None and "less than one week" in velocity.method
    long = team_remote(tmp_path / "long", weeks=20)
    velocity = history_velocity(git_dir=long, ref="main", before=timezone.now())
    # Two a week for twenty weeks: the last twelve count (the one exactly on the edge may fall out).
    assert velocity.weeks == Decimal("12.0") and velocity.changes in (23, 24) and "first-parent" in velocity.method
    assert velocity.per_week == (Decimal(velocity.changes) / Decimal(12)).quantize(Decimal("0.01"))


@pytest.fixture
def team(world: World) -> Any:
    with schema_context("alpha"):
        project = Project.objects.create(name="Team secrets", service=Service.AUGMENTATION)
        Engagement.objects.create(project=project, kind=Engagement.Kind.SPRINT, notes="- Track invoices")
    return project


def _page(project: Project) -> str:
    return reverse("project_repository", urlconf=URLCONF, args=[project.pk])


@pytest.mark.django_db(transaction=True)
def test_another_tenant_and_an_outsider_get_nothing_and_a_viewer_cannot_connect(world: World, team: Project) -> None:
    form = {"url": "https://git.example.com/team/app.git", "credential": TOKEN}
    for user in ("beta_owner", "outsider"):
        client = world.client(user, on="alpha")
        assert client.get(_page(team)).status_code == 404
        assert client.post(_page(team), form).status_code == 404
    assert world.client("alpha_viewer", on="alpha").get(_page(team)).status_code == 200
    assert world.client("alpha_viewer", on="alpha").post(_page(team), form).status_code == 403
    with schema_context("alpha"):
        assert not RepositoryConnection.objects.filter(project=team).exists()
        mvp = Project.objects.create(name="Not augmentation", service=Service.MVP)
    assert world.client("alpha_owner", on="alpha").get(_page(mvp)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_token_never_shows_in_pages_events_reports_failures_or_logs(
    world: World, team: Project, tmp_path: Path, caplog: Any, settings: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES = True  # a remote on loopback that answers nothing
    member = world.client("alpha_member", on="alpha")
    refused = member.post(_page(team), {"url": "ext::sh%20-c%20id", "credential": TOKEN})
    assert refused.status_code == 400 and "are refused" in refused.content.decode()
    assert TOKEN not in refused.content.decode()  # not even echoed back into the form
    # Port 9 on localhost answers nothing: git fails talking to the remote with the token.
    response = member.post(_page(team), {"url": "https://127.0.0.1:9/team/app.git", "credential": TOKEN})
    assert response.status_code == 302
    with schema_context("alpha"):
        stored = RepositoryConnection.objects.get(project=team)
        assert TOKEN not in stored.credential and secret_decrypt(stored.credential).value == TOKEN
        inputs = repository_job_inputs(team.pk)
    assert inputs is not None and TOKEN not in str(inputs)
    for page in (_page(team), reverse("project_detail", urlconf=URLCONF, args=[team.pk])):
        assert TOKEN not in member.get(page).content.decode()

    events: list[tuple[str, str, dict[str, Any]]] = []
    context = JobContext(
        workspace=tmp_path / "home" / "workspace",
        report=lambda kind, message, data=None: events.append((kind, message, dict(data or {}))),
        cancelled=lambda: False,
    )
    spec = JobSpec(role="team_integration", key="team_assessment", title="assess", inputs={"repository": inputs})
    with pytest.raises(JobFailed) as failure:
        BuiltinProvider().run(spec, context)
    assert "127.0.0.1:9" in str(failure.value) and TOKEN not in str(failure.value)
    assert TOKEN not in repr(events)
    with schema_context("alpha"):
        recorded = list(Event.objects.filter(project=team).values_list("message", "data"))
    assert recorded and TOKEN not in repr(recorded)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(os.environ)


@pytest.mark.django_db(transaction=True)
def test_a_deploy_key_is_refused_for_https_and_kept_out_of_ssh_errors(
    world: World, team: Project, tmp_path: Path, settings: Any
) -> None:
    settings.HIVE_GIT_ALLOW_PRIVATE_REMOTES = True  # a remote on loopback that answers nothing
    member = world.client("alpha_member", on="alpha")
    wrong = member.post(_page(team), {"url": "git@127.0.0.1:team/app.git", "credential": "not-a-key"})
    assert wrong.status_code == 400 and "private key" in wrong.content.decode()
    assert member.post(_page(team), {"url": "git@127.0.0.1:team/app.git", "credential": KEY}).status_code == 302
    with schema_context("alpha"):
        inputs = repository_job_inputs(team.pk)
        assert RepositoryConnection.objects.get(project=team).credential_hint.startswith("SSH private key")
    context = JobContext(workspace=tmp_path / "h" / "workspace", report=lambda *a, **k: None, cancelled=lambda: False)
    spec = JobSpec(role="team_integration", key="team_assessment", title="assess", inputs={"repository": inputs})
    with pytest.raises(JobFailed) as failure:
        BuiltinProvider().run(spec, context)
    assert "SECRETKEYMATERIAL" not in str(failure.value)
    assert not list(Path("/tmp").glob("hive-remote-*"))  # the key file went with its command
    page = member.get(_page(team)).content.decode()
    assert "SECRETKEYMATERIAL" not in page and "never shown again" in page


@pytest.mark.django_db(transaction=True)
def test_rotating_the_keys_re_encrypts_every_stored_credential(world: World, team: Project, settings: Any) -> None:
    from cryptography.fernet import Fernet

    member = world.client("alpha_member", on="alpha")
    member.post(_page(team), {"url": "https://git.example.com/team/app.git", "credential": TOKEN})
    new = Fernet.generate_key().decode()
    settings.HIVE_SECRET_KEYS = [new, *settings.HIVE_SECRET_KEYS]
    rotated, unreadable = secrets_rotate()
    assert rotated >= 1 and f"alpha/{team.pk}" not in unreadable
    settings.HIVE_SECRET_KEYS = [new]
    with schema_context("alpha"):
        assert secret_decrypt(RepositoryConnection.objects.get(project=team).credential).value == TOKEN
        RepositoryConnection.objects.filter(project=team).delete()  # tenant rows outlive the test
