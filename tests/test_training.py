"""PersRM training on real tiny models: data validation, DPO stages, checkpoints and exact resume."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from pad_integrations.errors import TokenizerMismatchError
from pad_integrations.generation.reward_model import HEAD_WEIGHT_KEY, VALUE_HEAD_FILE, PersonalizedRewardModel
from pad_integrations.training.cli import add_train_arguments, run_train
from pad_integrations.training.data import PreferenceDataError, PreferencePair, load_pairs, save_pairs
from pad_integrations.training.loop import LoopConfig, batch_schedule
from pad_integrations.training.persrm import PersRMTrainingConfig, train_persrm

TOPICS = ["rain", "tea", "bread", "music"]


def _pairs() -> list[PreferencePair]:
    pairs = []
    for t in TOPICS:
        pairs.append(PreferencePair(f"Tell me about {t}.", "Keep answers short and to the point.",
                                    f"{t.capitalize()} is good.",
                                    f"{t.capitalize()} is good, and there is a lot more to say about {t} today."))
        pairs.append(PreferencePair([{"role": "user", "content": f"What is {t}?"}], "Be playful and add a little humor.",
                                    f"{t.capitalize()} is fun, haha!", f"{t.capitalize()} is a thing."))
    return pairs


def _config(**kw) -> PersRMTrainingConfig:
    base = {"beta": 0.5, "lr": 3e-3, "stage1_steps": 4, "stage2_steps": 2, "stage2_lr": 1e-2, "batch_size": 4,
            "checkpoint_every": 2, "seed": 3}
    return PersRMTrainingConfig(**{**base, **kw})


def _weights(path: Path) -> dict[str, torch.Tensor]:
    model = AutoModelForCausalLM.from_pretrained(path)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    head = path / VALUE_HEAD_FILE
    if head.exists():
        tensors.update(load_file(str(head)))
    return tensors


def test_jsonl_malformed_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    good = _pairs()[0].to_json()
    lines = [good, "{not json", "", json.dumps({"prompt": "x", "preference": "p", "chosen": "a"}),
             json.dumps([1, 2]), json.dumps({"prompt": [], "preference": "p", "chosen": "a", "rejected": "b"}),
             json.dumps({"prompt": "x", "preference": "p", "chosen": "same", "rejected": "same"}), good]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PreferenceDataError) as info:
        load_pairs(path)
    numbers = [n for n, _ in info.value.problems]
    assert numbers == [2, 4, 5, 6, 7]
    message = str(info.value)
    assert "line 2: invalid JSON" in message and "line 4: missing field(s): rejected" in message
    assert "line 7: 'chosen' and 'rejected' are identical" in message
    assert isinstance(info.value, ValueError)


def test_jsonl_round_trip_keeps_string_and_chat_prompts(tmp_path: Path) -> None:
    pairs = _pairs()
    path = save_pairs(pairs, tmp_path / "p.jsonl")
    assert load_pairs(path) == pairs
    assert pairs[1].messages == [{"role": "user", "content": "What is rain?"}]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(PreferenceDataError, match="no preference pairs"):
        load_pairs(empty)
    with pytest.raises(FileNotFoundError):
        load_pairs(tmp_path / "missing.jsonl")


def test_training_lowers_the_dpo_loss_and_saves_a_loadable_persrm(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rm"
    result = train_persrm(_pairs(), tiny_model_dir, out, _config(stage1_steps=24, stage2_steps=8),
                          progress=False)
    stage1 = [h["loss"] for h in result.history["stage1"]]
    # Policy and reference start equal and the reference reads the preference too: the first loss is ln 2.
    assert stage1[0] == pytest.approx(math.log(2), abs=1e-4)
    assert sum(stage1[-4:]) / 4 < 0.5 * math.log(2)
    assert result.metrics["stage1_reward_accuracy"] > 0.9
    assert (out / "loss_curve.png").stat().st_size > 1000
    assert not (out / "checkpoints").exists()  # cleaned up after success
    rm = PersonalizedRewardModel.from_pretrained(out)
    assert rm.v_head is not None
    assert not torch.equal(rm.v_head.summary.weight, torch.eye(rm.hidden_size))
    AutoModelForCausalLM.from_pretrained(out)  # the plain backbone loads too
    saved = json.loads((out / "training_args.json").read_text())
    assert saved["config"]["reference_sees_preference"] is True and saved["pairs"] == len(_pairs())


def test_reference_without_preference_changes_the_objective(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_persrm(_pairs(), tiny_model_dir, tmp_path / "rm",
                          _config(stage1_steps=1, stage2_steps=0, reference_sees_preference=False),
                          progress=False, plot_path=None)
    # The reference no longer reads the preference, so policy and reference differ from the first step.
    assert result.history["stage1"][0]["loss"] != pytest.approx(math.log(2), abs=1e-4)
    assert not (tmp_path / "rm" / VALUE_HEAD_FILE).exists()


def test_stage2_trains_only_the_head(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rm"
    train_persrm(_pairs(), tiny_model_dir, out, _config(stage1_steps=0, stage2_steps=3), progress=False,
                 plot_path=None)
    base, trained = _weights(tiny_model_dir), _weights(out)
    for key, tensor in base.items():
        assert torch.equal(tensor, trained[key]), key
    assert not torch.equal(trained[HEAD_WEIGHT_KEY], torch.eye(trained[HEAD_WEIGHT_KEY].shape[0]))


def test_resume_from_a_checkpoint_reproduces_the_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    full_ckpt = tmp_path / "ckpt-full"
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "full", _config(), progress=False, plot_path=None,
                 checkpoint_dir=full_ckpt, keep_checkpoints=True)
    assert (full_ckpt / "stage1-step2.pt").exists() and (full_ckpt / "stage2-step2.pt").exists()

    # A run that stopped after step 2 of stage 1: only that checkpoint exists.
    crashed = tmp_path / "ckpt-crashed"
    crashed.mkdir()
    shutil.copy(full_ckpt / "stage1-step2.pt", crashed)
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "resumed", _config(), progress=False, plot_path=None,
                 checkpoint_dir=crashed, resume=True)
    full, resumed = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.equal(full[key], resumed[key]), key
    history = json.loads((tmp_path / "resumed" / "training_args.json").read_text())["metrics"]
    assert history == json.loads((tmp_path / "full" / "training_args.json").read_text())["metrics"]


def test_resume_refuses_a_checkpoint_of_other_settings(tiny_model_dir: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "a", _config(stage2_steps=0), progress=False,
                 plot_path=None, checkpoint_dir=ckpt, keep_checkpoints=True)
    with pytest.raises(ValueError, match="other settings or data"):
        train_persrm(_pairs(), tiny_model_dir, tmp_path / "b", _config(stage2_steps=0, beta=0.9), progress=False,
                     plot_path=None, checkpoint_dir=ckpt, resume=True)


def test_vocabulary_mismatch_is_rejected_before_training(tiny_model_dir: Path, tiny_llama_dir: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "rm"
    with pytest.raises(TokenizerMismatchError, match="reference model"):
        train_persrm(_pairs(), tiny_model_dir, out, _config(), reference_model=tiny_llama_dir, progress=False)
    assert not out.exists()


def test_tokenizer_larger_than_the_model_vocabulary_is_rejected(tiny_model_dir: Path, tmp_path: Path) -> None:
    shrunk = tmp_path / "shrunk"
    shutil.copytree(tiny_model_dir, shrunk)
    model = AutoModelForCausalLM.from_pretrained(shrunk)
    model.resize_token_embeddings(model.config.vocab_size - 10)
    model.save_pretrained(shrunk)
    with pytest.raises(TokenizerMismatchError, match="output logits"):
        train_persrm(_pairs(), shrunk, tmp_path / "rm", _config(), progress=False)
    assert not (tmp_path / "rm").exists()


def test_lora_adapters_are_merged_into_a_plain_directory(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("peft")
    out = tmp_path / "rm"
    result = train_persrm(_pairs(), tiny_model_dir, out, _config(lora_rank=4, stage1_steps=6, stage2_steps=0),
                          progress=False, plot_path=None)
    assert result.history["stage1"][-1]["loss"] < result.history["stage1"][0]["loss"]
    trained = _weights(out)
    assert not any("lora" in k for k in trained)
    base = _weights(tiny_model_dir)
    assert any(not torch.equal(base[k], trained[k]) for k in base)


def test_batch_schedule_is_seeded_and_groups_lengths() -> None:
    config = LoopConfig(steps=10, batch_size=4, lr=1e-3, seed=1)
    lengths = [i % 7 * 10 for i in range(40)]
    first = batch_schedule(40, config, lengths)
    assert first == batch_schedule(40, config, lengths)
    assert first != batch_schedule(40, LoopConfig(steps=10, batch_size=4, lr=1e-3, seed=2), lengths)
    assert sorted(i for b in first for i in b) == list(range(40))  # one epoch covers every item once
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in first)
    assert spread < sum(max(lengths) - min(lengths) for _ in first) / 2
    with pytest.raises(ValueError):
        LoopConfig(steps=0, batch_size=1, lr=1e-3)


def test_cli_reports_bad_lines_and_trains(tiny_model_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_pairs()[0].to_json() + "\n{oops\n")
    args = parser.parse_args([str(bad), "--base", str(tiny_model_dir), "--out", str(tmp_path / "x")])
    assert run_train(args) == 2
    assert "line 2: invalid JSON" in capsys.readouterr().err

    data = save_pairs(_pairs(), tmp_path / "good.jsonl")
    out = tmp_path / "rm"
    args = parser.parse_args([str(data), "--base", str(tiny_model_dir), "--out", str(out), "--stage1-steps", "2",
                              "--stage2-steps", "1", "--batch-size", "4", "--lr", "1e-3", "--no-progress"])
    assert run_train(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["output_dir"] == str(out) and "stage1_final_loss" in printed
    assert (out / VALUE_HEAD_FILE).exists() and (out / "loss_curve.png").exists()


def test_sft_weight_adds_the_chosen_nll(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_persrm(_pairs(), tiny_model_dir, tmp_path / "rm", _config(stage1_steps=2, stage2_steps=0,
                                                                             sft_weight=0.5),
                          progress=False, plot_path=None)
    first = result.history["stage1"][0]
    assert first["chosen_nll"] > 0
    assert first["loss"] == pytest.approx(math.log(2) + 0.5 * first["chosen_nll"], rel=1e-5)
