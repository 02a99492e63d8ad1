"""gcseg.config: presets, YAML round trip, validation errors naming the key and the file."""

from __future__ import annotations

import pytest

from gcseg.config import (
    ConfigError,
    GCSegConfig,
    ModelConfig,
    get_preset,
    load_config,
)


def test_paper_preset_has_the_papers_settings():
    config = get_preset("paper")
    assert config.model.backbone == "resnet101"
    assert config.model.weights == "imagenet"
    assert config.model.output_stride == 16
    assert config.model.variant == "full"
    assert config.data.frame_size == (480, 854)
    assert config.inference.judgment_threshold == 0.7
    assert config.inference.num_refs == 3
    assert config.train.zero_prev_mask_prob == 0.5
    assert config.model.coseg_levels == ("res3", "res4", "res5")


def test_tiny_preset_is_small_and_offline():
    config = get_preset("tiny")
    assert config.model.backbone == "resnet18"
    assert config.model.weights is None  # nothing to download
    assert config.data.frame_size == (240, 432)
    assert max(config.model.coseg_dim, config.model.ref_dim, config.model.decoder_dim) <= 64


def test_presets_are_fresh_copies():
    first = get_preset("tiny")
    first.model.variant = "baseline"
    assert get_preset("tiny").model.variant == "full"


@pytest.mark.parametrize("name", ["paper", "tiny"])
def test_yaml_round_trip(tmp_path, name):
    config = get_preset(name)
    path = tmp_path / "sub" / "config.yaml"
    text = config.to_yaml(path)
    assert path.read_text() == text
    assert GCSegConfig.from_yaml(path) == config


def test_partial_yaml_over_a_preset(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(
        "preset: tiny\n"
        "model:\n  variant: coseg\n  aspp_rates: [1, 2]\n"
        "train:\n  lr: 1e-3\n"  # YAML 1.1 reads 1e-3 as a string; accepted as a number
    )
    config = GCSegConfig.from_yaml(path)
    assert config.model.variant == "coseg"
    assert config.model.aspp_rates == (1, 2)
    assert config.model.backbone == "resnet18"  # from the tiny preset
    assert config.train.lr == pytest.approx(1e-3)
    assert config.data.frame_size == (240, 432)


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  backbon: resnet18\n")
    with pytest.raises(ConfigError) as error:
        GCSegConfig.from_yaml(path)
    assert "model.backbon" in str(error.value)
    assert str(path) in str(error.value)


def test_unknown_top_level_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("modle: {}\n")
    with pytest.raises(ConfigError, match="'modle'"):
        GCSegConfig.from_yaml(path)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("model:\n  decoder_dim: wide\n", "model.decoder_dim"),
        ("model:\n  variant: everything\n", "model.variant"),
        ("model:\n  output_stride: 4\n", "model.output_stride"),
        ("model:\n  coseg_levels: [res9]\n", "model.coseg_levels"),
        ("model:\n  freeze_backbone: 1\n", "model.freeze_backbone"),
        ("inference:\n  judgment_threshold: 2.0\n", "inference.judgment_threshold"),
        ("data:\n  frame_size: [240]\n", "data.frame_size"),
        ("preset: huge\n", "huge"),
    ],
)
def test_bad_values_name_the_key_and_file(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        GCSegConfig.from_yaml(path)
    assert key in str(error.value)
    assert str(path) in str(error.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        GCSegConfig.from_yaml(path)
    with pytest.raises(FileNotFoundError):
        GCSegConfig.from_yaml(tmp_path / "missing.yaml")


def test_load_config_accepts_name_path_and_config(tmp_path):
    assert load_config("tiny").name == "tiny"
    path = tmp_path / "c.yaml"
    get_preset("tiny").to_yaml(path)
    assert load_config(path) == get_preset("tiny")
    config = get_preset("paper")
    assert load_config(config) is config
    with pytest.raises(ConfigError, match="neither a preset"):
        load_config("no-such-preset")


def test_model_config_defaults_are_the_paper_without_downloads():
    assert ModelConfig(weights="imagenet") == get_preset("paper").model
    assert ModelConfig().weights is None


def test_choices_come_from_the_typed_literals():
    import typing

    from gcseg.config import VARIANTS, Variant
    from gcseg.config.validation import validate_config

    assert VARIANTS == typing.get_args(Variant) == ("baseline", "ref", "coseg", "full")
    assert typing.get_type_hints(ModelConfig)["variant"] is Variant
    config = get_preset("tiny")
    config.model.variant = "everything"  # set in code: validation reads the same tuple
    with pytest.raises(ConfigError, match="model.variant"):
        validate_config(config, "test")


def test_updated_checks_each_setting_like_a_yaml_key():
    config = get_preset("tiny").updated({"train": {"lr": "3e-4"}}, "recipe")
    assert config.train.lr == pytest.approx(3e-4) and config.model.backbone == "resnet18"
    with pytest.raises(ConfigError, match="recipe: model.head_norm"):
        get_preset("tiny").updated({"model": {"head_norm": "layer"}}, "recipe")
