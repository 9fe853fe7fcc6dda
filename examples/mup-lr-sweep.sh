#!/usr/bin/env bash
# examples/mup-lr-sweep.sh: final training loss against learning rate for two widths, in GPT-2's
# parametrisation and in μP (`ctxscale train --mup-base-width`, docs/trainer.md "μP"). Under μP
# the best learning rate of the narrow model should also be (near) the best of the wide one;
# without it, the wide model's best learning rate is smaller. Prints one row per
# (parametrisation, width, lr): the mean training loss of the last 10% of steps and the final
# validation loss (32 windows). Head size 8 at every width (heads = width / 8). Small enough for
# a laptop CPU (a few minutes on 2 cores); docs/trainer.md records a measured table.
#
#   examples/mup-lr-sweep.sh [OUTDIR]          (default: a temporary directory, removed after)
#
# Environment: CTXSCALE (default build/ctxscale), WIDTHS (default "16 64"; the first is the μP
# base width), LRS (default "3e-4 1e-3 3e-3 1e-2 3e-2 1e-1"), TOKENS (default 3e5), THREADS
# (default 1).
set -euo pipefail

CS=${CTXSCALE:-build/ctxscale}
WIDTHS=${WIDTHS:-16 64}
LRS=${LRS:-3e-4 1e-3 3e-3 1e-2 3e-2 1e-1}
TOKENS=${TOKENS:-3e5}
THREADS=${THREADS:-1}
export OPENBLAS_NUM_THREADS=$THREADS
if [ $# -ge 1 ]; then
    out=$1
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
base=${WIDTHS%% *}

"$CS" data synth --docs 400 --doc-len 1024 --vocab 64 --alpha 2 --floor-docs 0 \
    --out "$out/synth" --force > /dev/null
printf '%-8s %6s %8s %10s %10s\n' param width lr loss_train loss_val
for param in standard mup; do
    for w in $WIDTHS; do
        for lr in $LRS; do
            run="$out/$param-d$w-lr$lr"
            extra=()
            [ "$param" = mup ] && extra=(--mup-base-width "$base")
            "$CS" train --data "$out/synth" --layers 2 --d-model "$w" --heads $((w / 8)) \
                --context 64 --batch-tokens 2048 --tokens "$TOKENS" --lr "$lr" \
                --eval-every 0 --eval-windows 32 --threads "$THREADS" -q --force \
                "${extra[@]}" --out "$run" > /dev/null || true
            loss=$("$CS" runs export "$run" --table steps |
                awk -F, 'NR > 1 { l[NR - 1] = $8; n = NR - 1 }
                         END { k = int(n / 10); if (k < 1) k = 1; s = 0
                               for (i = n - k + 1; i <= n; i++) s += l[i]
                               printf "%.4f", s / k }')
            val=$("$CS" runs export "$run" --table eval | awk -F, 'END { printf "%.4f", $5 }')
            printf '%-8s %6s %8s %10s %10s\n' "$param" "$w" "$lr" "$loss" "$val"
        done
    done
done
