"""The Kubernetes backend examples parse, carry the keys MLflow requires, and run locked down:
not as root, no privilege to gain, no API token, a deadline, and images pinned to a tag."""

import json
import re
from pathlib import Path

import pytest
import yaml

from grocery.tracking import env_manager_of_tag

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "deploy" / "kubernetes"
# The image MLflow builds and puts in the Job (pinned by digest when it submits it).
MLFLOW_IMAGE = "{replaced with URI of Docker image created during Project execution}"


def pinned(image: str) -> bool:
    """An image named with a tag (or a digest) that is not ``latest``."""
    name = image.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        return True
    return ":" in name and name.rsplit(":", 1)[1] not in ("", "latest")


def job_template() -> dict:
    return yaml.safe_load((EXAMPLES / "job-template.yaml").read_text())


def test_backend_config_has_the_required_keys_and_points_at_the_template():
    config = json.loads((EXAMPLES / "backend-config.json").read_text())
    assert {"kube-job-template-path", "repository-uri"} <= config.keys()
    assert (ROOT / config["kube-job-template-path"]).resolve() == EXAMPLES / "job-template.yaml"


def test_job_template_is_a_job_with_a_namespace_and_mlflows_placeholders():
    template = job_template()
    assert template["kind"] == "Job"
    assert template["metadata"]["namespace"]
    container = template["spec"]["template"]["spec"]["containers"][0]
    assert {"name", "image", "command"} <= container.keys()
    assert template["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_docker_variant_keeps_mains_parameters_and_uses_docker_env():
    variant = yaml.safe_load((EXAMPLES / "MLproject").read_text())
    root = yaml.safe_load((ROOT / "MLproject").read_text())
    assert variant["docker_env"]["image"]
    assert "python_env" not in variant
    assert variant["entry_points"] == root["entry_points"]
    assert (EXAMPLES / "Dockerfile").read_text().count("requirements.txt") >= 1


def test_steps_inside_a_docker_run_use_the_images_environment():
    assert env_manager_of_tag("docker") == "local"
    assert env_manager_of_tag(None) == "local"
    assert env_manager_of_tag("uv") == "uv"


@pytest.mark.parametrize(("image", "ok"), [
    ("python:3.11.11-slim-bookworm", True), ("grocery-forecasting-base:1.0.0", True),
    ("registry.example:5000/grocery@sha256:" + "a" * 64, True), ("python", False),
    ("python:latest", False), ("registry.example:5000/grocery", False),
])
def test_what_counts_as_a_pinned_image(image, ok):
    assert pinned(image) is ok


def test_the_job_runs_as_a_user_without_privileges_or_an_api_token():
    template = job_template()
    pod = template["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    user = pod["securityContext"]["runAsUser"]
    assert user > 0
    dockerfile = (EXAMPLES / "Dockerfile").read_text()
    assert re.findall(r"^USER (\S+)$", dockerfile, re.M) == [str(user)]
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context.get("privileged", False) is False
        assert container["image"] == MLFLOW_IMAGE or pinned(container["image"])
        assert container["resources"]["limits"]["cpu"]


def test_the_job_has_a_deadline():
    deadline = job_template()["spec"]["activeDeadlineSeconds"]
    assert isinstance(deadline, int) and 0 < deadline <= 24 * 3600


def test_every_image_is_pinned_and_the_docs_build_the_one_docker_env_names():
    base = yaml.safe_load((EXAMPLES / "MLproject").read_text())["docker_env"]["image"]
    assert pinned(base)
    sources = re.findall(r"^FROM (\S+)", (EXAMPLES / "Dockerfile").read_text(), re.M)
    assert sources and all(pinned(image) for image in sources)
    for page in ("docs/kubernetes.md", "docs/ko/kubernetes.md"):
        built = re.findall(r"docker build -t (\S+)", (ROOT / page).read_text())
        assert built == [base], page
