#!/usr/bin/env bash
# Resume check (./build.sh resume-check [--preset best], run by CI after pack and data): trains 3 epochs of real
# MNIST (shuffled) with samples/MnistCnn.Samples.Train and --checkpoint, stops it with SIGINT (what Ctrl+C sends)
# during epoch 2, continues it with --resume, and checks that it ends with the weights, byte for byte, of the same
# run never stopped; the stopped run must exit with 130 and name its checkpoint. With --preset best the same for
# the best preset (TrainingRecipe.Best: LeNet, augmentation, one-cycle Adam) over 2 of its epochs, stopped in epoch 2.
# Expects the package packed and MNIST in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$repo/eng/torch-env.sh"

resume_check() {
  local data=${MNISTCNN_DATA_DIR:-data/mnist} dir=artifacts/resume-check project=samples/MnistCnn.Samples.Train
  local app=$project/bin/Release/net10.0/MnistCnn.Samples.Train.dll epochs=3 weights=convnet.safetensors
  local run=(--data "$data" --epochs 3 --shuffle --seed 5)
  case "${1:-}" in
    "") ;;
    --preset) [ "${2:-}" = best ] && [ $# -eq 2 ] || die "resume-check: only '--preset best' is accepted"
      dir=artifacts/resume-check-best epochs=2 weights=lenet.safetensors
      run=(--data "$data" --preset best --epochs 2 --seed 5) ;;
    *) die "resume-check: unknown argument '$1' (usage: resume-check [--preset best])" ;;
  esac
  rm -rf "$dir"
  mkdir -p "$dir"
  run_torch dotnet build "$project" -c Release -v q -p:UseSharedCompilation=false
  run_torch dotnet "$app" "${run[@]}" --output "$dir/whole" >"$dir/whole.log" 2>&1

  # Job control puts the run in a process group of its own with SIGINT at its default, as a terminal's
  # foreground job has; the signal goes to that group, as Ctrl+C's does.
  set -m
  # env --default-signal: a shell that ran this script in the background without job control left SIGINT ignored,
  # and an ignored signal stays ignored in every child (.NET then never sees it).
  run_torch env --default-signal=INT dotnet "$app" "${run[@]}" --output "$dir/stopped" --checkpoint "$dir/checkpoint" >"$dir/stopped.log" 2>&1 &
  local job=$! status=0 started=$SECONDS seen sent
  set +m
  until grep -q '^Epoch: 1 ' "$dir/stopped.log"; do
    kill -0 "$job" 2>/dev/null || die "resume-check: the run ended before its first epoch:"$'\n'"$(cat "$dir/stopped.log")"
    sleep 0.05
  done
  seen=$((SECONDS - started))
  # A case-study epoch takes well under a second here: signal early in epoch 2, not at its end.
  sleep 0.2
  kill -INT -- "-$job"
  sent=$((SECONDS - started))
  wait "$job" || status=$?
  [ "$status" -eq 130 ] || die "resume-check: the stopped run exited with $status, not 130 (epoch 1's line seen after ${seen} s, SIGINT sent after ${sent} s):"$'\n'"$(cat "$dir/stopped.log")"
  grep -q 'run the same command with --resume' "$dir/stopped.log" || die "resume-check: the stopped run did not say how to continue"
  ! grep -q '^Epoch: 2 ' "$dir/stopped.log" || die "resume-check: SIGINT came after epoch 2 had ended; nothing was interrupted"

  run_torch dotnet "$app" "${run[@]}" --output "$dir/stopped" --checkpoint "$dir/checkpoint" --resume >"$dir/resumed.log" 2>&1
  local trained
  trained=$(grep -o '^Epoch: [0-9]* ' "$dir/resumed.log" | awk '{printf "%s%s", sep, $2; sep=","}')
  [ "$trained" = "$(seq -s, 2 "$epochs")" ] \
    || die "resume-check: the resumed run did not train exactly epochs 2 to $epochs:"$'\n'"$(cat "$dir/resumed.log")"
  cmp -s "$dir/whole/$weights" "$dir/stopped/$weights" \
    || die "resume-check: stopped and resumed, the run ended with other weights than the run never stopped"
  say "resume-check: stopped by SIGINT in epoch 2 (exit 130), resumed from its checkpoint, ended with the uninterrupted run's weights byte for byte ($(grep '^Final accuracy' "$dir/resumed.log"))"
}

resume_check "$@"
