"""The Kubernetes backend examples parse and carry the keys MLflow requires."""

import json
from pathlib import Path

import yaml

from grocery.tracking import env_manager_of_tag

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "deploy" / "kubernetes"


def test_backend_config_has_the_required_keys_and_points_at_the_template():
    config = json.loads((EXAMPLES / "backend-config.json").read_text())
    assert {"kube-job-template-path", "repository-uri"} <= config.keys()
    assert (ROOT / config["kube-job-template-path"]).resolve() == EXAMPLES / "job-template.yaml"


def test_job_template_is_a_job_with_a_namespace_and_mlflows_placeholders():
    template = yaml.safe_load((EXAMPLES / "job-template.yaml").read_text())
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
