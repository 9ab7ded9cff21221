#!/usr/bin/env bash
# register_tiles.sh: the products' code keeps its register tiles in
# registers. Each product (linear, matmul, matmul_tn, matmul_left,
# matmul_sum_nt) is generated as tiles of accumulators shaped to the target's
# vector registers (compiler/codegen/MicroKernel.cpp): with AVX2's sixteen
# registers a tile shaped for AVX-512's 32 spilled its accumulators to the
# stack in the inner loop and ran at half speed or less. For x86-64-v3
# (AVX2) and x86-64-v4 (AVX-512), no block of multiply-adds in the assembly
# of any product kernel of the dense, wide and convolutional bench models
# may spill a vector register to the stack or reload one (LLVM's assembly
# comments name spills and reloads; a value spilled once outside the loops
# over a tile's sum costs nothing there). (Code is only generated here, not run, so the
# AVX-512 check holds on any host.) x86-64-v2 (SSE) is not checked: a
# narrow layer's dot products keep 16 lanes of partial sums, which its 16
# registers cannot hold beside their operands.
#
# The tile is the unrolled body of its loop over the sum already, so that
# loop is never unrolled again (Emitter::Unroll::Never): LLVM's partial
# unrolling of it doubled some kernels' code for no speed. In every
# matmul, matmul_tn, matmul_left and matmul_sum_nt kernel no block (from one
# .LBB label or "# %bb." comment to the next) may hold more multiply-adds than one
# tile (4 rows by 3 vectors for AVX2, 6 rows by 4 for AVX-512). `linear` is not
# checked: its dot products for narrow layers are unrolled on purpose.
#
# A dense layer's forward tiles prefetch the next tile's rows of the input
# while they sum (TileAccess::aRows; M3/1024's step 10% shorter): M3's
# `linear` kernel must have a block of multiply-adds that holds a prefetcht1.
#
# Usage: register_tiles.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"

bench_models=$here/../../bench/models

declare -A tile_fmas=([x86-64-v3]=12 [x86-64-v4]=24)
for cpu in x86-64-v3 x86-64-v4; do
  for model in m3 m4 m5; do
    asm=$work/$model-$cpu.s
    if ! "$mtlc" emit asm "$bench_models/$model.mtl" --target-cpu "$cpu" --no-cache \
      -o "$asm" 2>"$work/emit.err"; then
      fail "$model for $cpu: mtlc emit asm failed: $(cat "$work/emit.err")"
      continue
    fi
    # Per product kernel (mtl.kernel.linear, mtl.kernel.matmul_tn.26, ...):
    # how many of its blocks with multiply-adds spill or reload an xmm, ymm
    # or zmm register; per matmul kernel, the most multiply-adds in a block
    # past one tile's.
    report=$(awk -v most="${tile_fmas[$cpu]}" '
      function endBlock() {
        if (inside && fma && spilled) spills[name]++
        if (inside && fma && prefetch) prefetching[name]++
        fma = 0; spilled = 0; prefetch = 0; n = 0
      }
      /^mtl\.kernel\.(linear|matmul|matmul_tn|matmul_left|matmul_sum_nt)(\.[0-9]+)?:/ {
        endBlock(); name = $1; sub(/:$/, "", name); kernels++; inside = 1
        matmul = name !~ /linear/; matmuls += matmul; next
      }
      /^\.Lfunc_end/ { endBlock(); inside = 0 }
      inside && (/^\.LBB/ || /^# %bb\./) { endBlock() }
      inside && /%[xyz]mm[0-9]+.*# (16|32|64)-byte (Folded )?(Spill|Reload)/ { spilled = 1 }
      inside && /vfmadd/ { fma = 1 }
      inside && /prefetcht1/ { prefetch = 1 }
      inside && matmul && /vfmadd/ && ++n > most && n > block[name] { block[name] = n }
      END {
        printf "kernels %d\nmatmuls %d\n", kernels, matmuls
        for (k in spills) printf "spilled %s %d\n", k, spills[k]
        for (k in block) printf "unrolled %s (%d)\n", k, block[k]
        for (k in prefetching) printf "prefetching %s\n", k
      }' "$asm")
    kernels=$(sed -n 's/^kernels //p' <<<"$report")
    [[ $kernels -ge 3 ]] || fail "$model for $cpu: only ${kernels:-0} product kernels found"
    [[ $(sed -n 's/^matmuls //p' <<<"$report") -ge 1 ]] ||
      fail "$model for $cpu: no matmul, matmul_tn, matmul_left or matmul_sum_nt kernel found"
    spilled=$(sed -n 's/^spilled //p' <<<"$report")
    [[ -z $spilled ]] || fail "$model for $cpu: vector registers spilled or reloaded beside \
multiply-adds in (blocks): $spilled"
    if [[ $model == m3 ]] && ! grep -qx "prefetching mtl.kernel.linear" <<<"$report"; then
      fail "m3 for $cpu: the forward product's tiles do not prefetch the next tile's input rows"
    fi
    unrolled=$(sed -n 's/^unrolled //p' <<<"$report")
    [[ -z $unrolled ]] || fail "$model for $cpu: a tile's loop unrolled (more than \
${tile_fmas[$cpu]} multiply-adds in one block) in: $unrolled"
  done
done
finish
