;; This package's WebAssembly SIMD kernels, most of them built on one matrix product, `accumulate`: a
;; convolution's filter gradient (`patches` writes A, the input's patch matrix, `panels` lays out B, the
;; output gradient, and `accumulate` adds A·B to C), and 3×3 convolutions at stride 1 by Winograd (the
;; `winograd*` functions below); then `erf` and `erfGradient`, element-wise, and `maxPoolGradient`. Each
;; takes a range of rows, tiles or values, so threads can share one call.
;;
;; accumulate: C[rows][columns] += A[rows][depth] · B[depth][columns], A's value (row, k) at byte
;; a + row·rowStride + k·depthStride: row-major A has strides (depth·4, 4), and a Winograd filter gradient
;; reads V, laid out [tiles][channels], as A = Vᵀ with strides (4, channels·4). A filter gradient's depth (the summed
;; axis) runs over every output position of the batch; a Winograd product's over the input channels.
;; B comes in panels of 8 columns ([columns / 8][depth][8], written by `panels`), so a tile reads it
;; contiguously. XNNPACK's products pack B into their own layout on every call too, but at 5–14 ns a value
;; (tfjs-backend-wasm 4.22); `panels` moves 8 values with two vector loads and stores.
;;
;; Source of reduction-product.wasm.ts (scripts/compile-wat.mjs writes it, in a variant importing a shared
;; memory, as here, for threads, and one importing a plain memory; a test checks they agree with this file).
;; Layout: row-major f32, byte addresses. rows is a multiple of 4 and columns of 8 (the caller pads with
;; zeros); depth ≥ 1. The depth is walked in chunks of `chunk` so that B's chunk stays in cache while
;; every 4×8 tile of C takes its share of it.
(module
  (import "env" "memory" (memory 1 16384 shared))
  (func $accumulate (export "accumulate")
    (param $a i32) (param $b i32) (param $c i32)
    (param $rows i32) (param $depth i32) (param $columns i32) (param $chunk i32)
    (param $rowStride i32) (param $depthStride i32)
    (local $first i32) (local $last i32) (local $row i32) (local $column i32)
    (local $columnStride i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $count i32) (local $b0 v128) (local $b1 v128) (local $splat v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $columnStride (i32.shl (local.get $columns) (i32.const 2)))
    (local.set $first (i32.const 0))
    (loop $chunks
      (local.set $last (i32.add (local.get $first) (local.get $chunk)))
      (if (i32.gt_u (local.get $last) (local.get $depth))
        (then (local.set $last (local.get $depth))))
      (local.set $row (i32.const 0))
      (loop $rowBlocks
        (local.set $column (i32.const 0))
        (loop $columnBlocks
          ;; The tile's running sums: C[row + i][column .. column + 8] for i in 0..3.
          (local.set $pc (i32.add (local.get $c)
            (i32.shl (i32.add (i32.mul (local.get $row) (local.get $columns)) (local.get $column))
              (i32.const 2))))
          (local.set $c00 (v128.load (local.get $pc)))
          (local.set $c01 (v128.load offset=16 (local.get $pc)))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (local.set $c10 (v128.load (local.get $pc)))
          (local.set $c11 (v128.load offset=16 (local.get $pc)))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (local.set $c20 (v128.load (local.get $pc)))
          (local.set $c21 (v128.load offset=16 (local.get $pc)))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (local.set $c30 (v128.load (local.get $pc)))
          (local.set $c31 (v128.load offset=16 (local.get $pc)))
          (local.set $pa (i32.add (local.get $a)
            (i32.add (i32.mul (local.get $row) (local.get $rowStride))
              (i32.mul (local.get $first) (local.get $depthStride)))))
          ;; B's panel of 8 columns from `column` on, at row `first`.
          (local.set $pb (i32.add (local.get $b)
            (i32.shl (i32.add (i32.mul (local.get $column) (local.get $depth))
              (i32.shl (local.get $first) (i32.const 3)))
              (i32.const 2))))
          (local.set $count (i32.sub (local.get $last) (local.get $first)))
          (loop $steps
            (local.set $b0 (v128.load (local.get $pb)))
            (local.set $b1 (v128.load offset=16 (local.get $pb)))
            (local.set $splat (v128.load32_splat (local.get $pa)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $splat) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $splat) (local.get $b1))))
            (local.set $splat (v128.load32_splat (i32.add (local.get $pa) (local.get $rowStride))))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $splat) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $splat) (local.get $b1))))
            (local.set $splat (v128.load32_splat
              (i32.add (local.get $pa) (i32.shl (local.get $rowStride) (i32.const 1)))))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $splat) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $splat) (local.get $b1))))
            (local.set $splat (v128.load32_splat
              (i32.add (local.get $pa) (i32.mul (local.get $rowStride) (i32.const 3)))))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $splat) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $splat) (local.get $b1))))
            (local.set $pa (i32.add (local.get $pa) (local.get $depthStride)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
            (local.set $count (i32.sub (local.get $count) (i32.const 1)))
            (br_if $steps (local.get $count)))
          (local.set $pc (i32.add (local.get $c)
            (i32.shl (i32.add (i32.mul (local.get $row) (local.get $columns)) (local.get $column))
              (i32.const 2))))
          (v128.store (local.get $pc) (local.get $c00))
          (v128.store offset=16 (local.get $pc) (local.get $c01))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (v128.store (local.get $pc) (local.get $c10))
          (v128.store offset=16 (local.get $pc) (local.get $c11))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (v128.store (local.get $pc) (local.get $c20))
          (v128.store offset=16 (local.get $pc) (local.get $c21))
          (local.set $pc (i32.add (local.get $pc) (local.get $columnStride)))
          (v128.store (local.get $pc) (local.get $c30))
          (v128.store offset=16 (local.get $pc) (local.get $c31))
          (local.set $column (i32.add (local.get $column) (i32.const 8)))
          (br_if $columnBlocks (i32.lt_u (local.get $column) (local.get $columns))))
        (local.set $row (i32.add (local.get $row) (i32.const 4)))
        (br_if $rowBlocks (i32.lt_u (local.get $row) (local.get $rows))))
      (local.set $first (local.get $last))
      (br_if $chunks (i32.lt_u (local.get $first) (local.get $depth)))))

  ;; patches: rows [first, last) of A = the patch matrix [filterHeight·filterWidth·channels][columns] of an
  ;; NHWC input x, columns = images·outHeight·outWidth: row (kh, kw, c) holds, for every output position,
  ;; the input value that filter tap meets there, zero in the padding. One output row at a time, so its few
  ;; input rows stay in cache while every patch row in the range receives its outWidth values.
  (func (export "patches")
    (param $x i32) (param $out i32) (param $images i32)
    (param $inHeight i32) (param $inWidth i32) (param $channels i32)
    (param $outHeight i32) (param $outWidth i32) (param $filterWidth i32)
    (param $strideHeight i32) (param $strideWidth i32) (param $top i32) (param $left i32)
    (param $first i32) (param $last i32)
    (local $columns i32) (local $image i32) (local $outRow i32) (local $patchRow i32)
    (local $tap i32) (local $row i32) (local $column i32) (local $count i32)
    (local $to i32) (local $from i32) (local $step i32)
    (local.set $columns
      (i32.mul (local.get $images) (i32.mul (local.get $outHeight) (local.get $outWidth))))
    (local.set $step (i32.shl (i32.mul (local.get $strideWidth) (local.get $channels)) (i32.const 2)))
    (local.set $image (i32.const 0))
    (loop $images
      (local.set $outRow (i32.const 0))
      (loop $outRows
        (local.set $patchRow (local.get $first))
        (loop $patchRows
          ;; patchRow = tap · channels + c, tap = kh · filterWidth + kw
          (local.set $tap (i32.div_u (local.get $patchRow) (local.get $channels)))
          (local.set $row (i32.sub
            (i32.add (i32.mul (local.get $outRow) (local.get $strideHeight))
              (i32.div_u (local.get $tap) (local.get $filterWidth)))
            (local.get $top)))
          (local.set $column
            (i32.sub (i32.rem_u (local.get $tap) (local.get $filterWidth)) (local.get $left)))
          (local.set $to (i32.add (local.get $out) (i32.shl
            (i32.add (i32.mul (local.get $patchRow) (local.get $columns))
              (i32.mul
                (i32.add (i32.mul (local.get $image) (local.get $outHeight)) (local.get $outRow))
                (local.get $outWidth)))
            (i32.const 2))))
          ;; Unsigned comparisons: a row or column before the input (negative) is as outside as one after.
          (if (i32.lt_u (local.get $row) (local.get $inHeight))
            (then
              ;; Byte address of x[image, row, column, c]; column may lie outside: checked per value.
              (local.set $from (i32.add (local.get $x) (i32.shl
                (i32.add
                  (i32.mul
                    (i32.add
                      (i32.mul
                        (i32.add (i32.mul (local.get $image) (local.get $inHeight)) (local.get $row))
                        (local.get $inWidth))
                      (local.get $column))
                    (local.get $channels))
                  (i32.rem_u (local.get $patchRow) (local.get $channels)))
                (i32.const 2))))
              (local.set $count (local.get $outWidth))
              (loop $values
                (f32.store (local.get $to)
                  (if (result f32) (i32.lt_u (local.get $column) (local.get $inWidth))
                    (then (f32.load (local.get $from)))
                    (else (f32.const 0))))
                (local.set $to (i32.add (local.get $to) (i32.const 4)))
                (local.set $from (i32.add (local.get $from) (local.get $step)))
                (local.set $column (i32.add (local.get $column) (local.get $strideWidth)))
                (local.set $count (i32.sub (local.get $count) (i32.const 1)))
                (br_if $values (local.get $count))))
            (else
              (memory.fill (local.get $to) (i32.const 0) (i32.shl (local.get $outWidth) (i32.const 2)))))
          (local.set $patchRow (i32.add (local.get $patchRow) (i32.const 1)))
          (br_if $patchRows (i32.lt_u (local.get $patchRow) (local.get $last))))
        (local.set $outRow (i32.add (local.get $outRow) (i32.const 1)))
        (br_if $outRows (i32.lt_u (local.get $outRow) (local.get $outHeight))))
      (local.set $image (i32.add (local.get $image) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $image) (local.get $images)))))

  ;; panels: rows [first, last) of B [depth][columns] at `from` rearranged into panels of 8 columns,
  ;; [columns / 8][depth][8] at `to`, as `accumulate` reads B.
  (func (export "panels")
    (param $from i32) (param $to i32) (param $depth i32) (param $columns i32)
    (param $first i32) (param $last i32)
    (local $row i32) (local $source i32) (local $target i32) (local $panel i32) (local $panelStride i32)
    (local.set $panelStride (i32.shl (local.get $depth) (i32.const 5)))
    (local.set $row (local.get $first))
    (loop $rows
      (local.set $source (i32.add (local.get $from)
        (i32.shl (i32.mul (local.get $row) (local.get $columns)) (i32.const 2))))
      (local.set $target (i32.add (local.get $to) (i32.shl (local.get $row) (i32.const 5))))
      (local.set $panel (i32.shr_u (local.get $columns) (i32.const 3)))
      (loop $panels
        (v128.store (local.get $target) (v128.load (local.get $source)))
        (v128.store offset=16 (local.get $target) (v128.load offset=16 (local.get $source)))
        (local.set $source (i32.add (local.get $source) (i32.const 32)))
        (local.set $target (i32.add (local.get $target) (local.get $panelStride)))
        (local.set $panel (i32.sub (local.get $panel) (i32.const 1)))
        (br_if $panels (local.get $panel)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $row) (local.get $last)))))

  ;; Winograd F(2×2, 3×3), the convolution of 3×3 filters at stride 1 (TF.js' Conv2D, and through it the
  ;; input gradient, a convolution with the flipped filter): each 2×2 block of outputs ("tile") comes from
  ;; its 4×4 input block d and the filter g as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, summed over input channels. That
  ;; is 16 products [tiles][in] · [in][out], one per position ξ of the 4×4 transforms, with 16 multiplies
  ;; per tile and channel pair where the direct convolution has 36: 2.25× fewer. The transforms only add.
  ;;   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1]
  ;; V, U and M hold the 16 matrices one after the other, `plane` bytes apart; V and M have a row per tile
  ;; (padded to a multiple of 4, as `accumulate` needs; padded rows are never read back), U is laid out in
  ;; panels as `accumulate` reads B.

  ;; winogradInput: V[ξ][tile][c] = (Bᵀ d B)[ξ] for tiles [first, last) of an NHWC input x, 4 channels at a
  ;; time (channels is a multiple of 4). Taps outside the input read `zeros`, a block of at least
  ;; channels zeros, so the channel loop has no branches.
  (func (export "winogradInput")
    (param $x i32) (param $v i32) (param $zeros i32) (param $height i32) (param $width i32)
    (param $channels i32) (param $tilesHigh i32) (param $tilesWide i32) (param $top i32) (param $left i32)
    (param $plane i32) (param $first i32) (param $last i32)
    (local $tile i32) (local $image i32) (local $rest i32) (local $row i32) (local $column i32)
    (local $rowBase i32) (local $rowBytes i32) (local $pixel i32) (local $offset i32) (local $bytes i32)
    (local $to i32) (local $row0 i32) (local $column0 i32)
    (local $a00 i32) (local $a01 i32) (local $a02 i32) (local $a03 i32) (local $a10 i32) (local $a11 i32) (local $a12 i32) (local $a13 i32) (local $a20 i32) (local $a21 i32) (local $a22 i32) (local $a23 i32) (local $a30 i32) (local $a31 i32) (local $a32 i32) (local $a33 i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $width) (local.get $pixel)))
    (local.set $bytes (local.get $pixel))
    (local.set $tile (local.get $first))
    (block $empty
      (br_if $empty (i32.ge_u (local.get $first) (local.get $last)))
      (loop $tiles
        (local.set $image (i32.div_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        (local.set $rest (i32.rem_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        ;; The tile's 16 taps: byte addresses of their first channel in x, or `zeros`.
        (local.set $row0 (i32.sub (i32.shl (i32.div_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)) (local.get $top)))
        (local.set $column0 (i32.sub (i32.shl (i32.rem_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)) (local.get $left)))
        (local.set $row (i32.add (local.get $row0) (i32.const 0)))
        (local.set $rowBase (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $image) (local.get $height)) (local.get $row)) (local.get $rowBytes))))
        (local.set $column (i32.add (local.get $column0) (i32.const 0)))
        (local.set $a00 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 1)))
        (local.set $a01 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 2)))
        (local.set $a02 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 3)))
        (local.set $a03 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $row (i32.add (local.get $row0) (i32.const 1)))
        (local.set $rowBase (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $image) (local.get $height)) (local.get $row)) (local.get $rowBytes))))
        (local.set $column (i32.add (local.get $column0) (i32.const 0)))
        (local.set $a10 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 1)))
        (local.set $a11 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 2)))
        (local.set $a12 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 3)))
        (local.set $a13 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $row (i32.add (local.get $row0) (i32.const 2)))
        (local.set $rowBase (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $image) (local.get $height)) (local.get $row)) (local.get $rowBytes))))
        (local.set $column (i32.add (local.get $column0) (i32.const 0)))
        (local.set $a20 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 1)))
        (local.set $a21 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 2)))
        (local.set $a22 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 3)))
        (local.set $a23 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $row (i32.add (local.get $row0) (i32.const 3)))
        (local.set $rowBase (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $image) (local.get $height)) (local.get $row)) (local.get $rowBytes))))
        (local.set $column (i32.add (local.get $column0) (i32.const 0)))
        (local.set $a30 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 1)))
        (local.set $a31 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 2)))
        (local.set $a32 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $column (i32.add (local.get $column0) (i32.const 3)))
        (local.set $a33 (select (i32.add (local.get $rowBase) (i32.mul (local.get $column) (local.get $pixel))) (local.get $zeros)
          (i32.and (i32.lt_u (local.get $row) (local.get $height)) (i32.lt_u (local.get $column) (local.get $width)))))
        (local.set $to (i32.add (local.get $v) (i32.mul (local.get $tile) (local.get $pixel))))
        (local.set $offset (i32.const 0))
        (loop $channelGroups
          ;; Row 0 of Bᵀ d, then its column transform: V[0..3].
          (local.set $t0 (f32x4.sub (v128.load (i32.add (local.get $a00) (local.get $offset))) (v128.load (i32.add (local.get $a20) (local.get $offset)))))
          (local.set $t1 (f32x4.sub (v128.load (i32.add (local.get $a01) (local.get $offset))) (v128.load (i32.add (local.get $a21) (local.get $offset)))))
          (local.set $t2 (f32x4.sub (v128.load (i32.add (local.get $a02) (local.get $offset))) (v128.load (i32.add (local.get $a22) (local.get $offset)))))
          (local.set $t3 (f32x4.sub (v128.load (i32.add (local.get $a03) (local.get $offset))) (v128.load (i32.add (local.get $a23) (local.get $offset)))))
          (v128.store (local.get $to) (f32x4.sub (local.get $t0) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $t1) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t2) (local.get $t1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t1) (local.get $t3)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          ;; Row 1 of Bᵀ d, then its column transform: V[4..7].
          (local.set $t0 (f32x4.add (v128.load (i32.add (local.get $a10) (local.get $offset))) (v128.load (i32.add (local.get $a20) (local.get $offset)))))
          (local.set $t1 (f32x4.add (v128.load (i32.add (local.get $a11) (local.get $offset))) (v128.load (i32.add (local.get $a21) (local.get $offset)))))
          (local.set $t2 (f32x4.add (v128.load (i32.add (local.get $a12) (local.get $offset))) (v128.load (i32.add (local.get $a22) (local.get $offset)))))
          (local.set $t3 (f32x4.add (v128.load (i32.add (local.get $a13) (local.get $offset))) (v128.load (i32.add (local.get $a23) (local.get $offset)))))
          (v128.store (local.get $to) (f32x4.sub (local.get $t0) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $t1) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t2) (local.get $t1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t1) (local.get $t3)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          ;; Row 2 of Bᵀ d, then its column transform: V[8..11].
          (local.set $t0 (f32x4.sub (v128.load (i32.add (local.get $a20) (local.get $offset))) (v128.load (i32.add (local.get $a10) (local.get $offset)))))
          (local.set $t1 (f32x4.sub (v128.load (i32.add (local.get $a21) (local.get $offset))) (v128.load (i32.add (local.get $a11) (local.get $offset)))))
          (local.set $t2 (f32x4.sub (v128.load (i32.add (local.get $a22) (local.get $offset))) (v128.load (i32.add (local.get $a12) (local.get $offset)))))
          (local.set $t3 (f32x4.sub (v128.load (i32.add (local.get $a23) (local.get $offset))) (v128.load (i32.add (local.get $a13) (local.get $offset)))))
          (v128.store (local.get $to) (f32x4.sub (local.get $t0) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $t1) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t2) (local.get $t1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t1) (local.get $t3)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          ;; Row 3 of Bᵀ d, then its column transform: V[12..15].
          (local.set $t0 (f32x4.sub (v128.load (i32.add (local.get $a10) (local.get $offset))) (v128.load (i32.add (local.get $a30) (local.get $offset)))))
          (local.set $t1 (f32x4.sub (v128.load (i32.add (local.get $a11) (local.get $offset))) (v128.load (i32.add (local.get $a31) (local.get $offset)))))
          (local.set $t2 (f32x4.sub (v128.load (i32.add (local.get $a12) (local.get $offset))) (v128.load (i32.add (local.get $a32) (local.get $offset)))))
          (local.set $t3 (f32x4.sub (v128.load (i32.add (local.get $a13) (local.get $offset))) (v128.load (i32.add (local.get $a33) (local.get $offset)))))
          (v128.store (local.get $to) (f32x4.sub (local.get $t0) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $t1) (local.get $t2)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t2) (local.get $t1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $t1) (local.get $t3)))
          (local.set $to (i32.sub (i32.add (local.get $to) (i32.const 16)) (i32.mul (local.get $plane) (i32.const 15))))
          (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
          (br_if $channelGroups (i32.lt_u (local.get $offset) (local.get $bytes))))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br_if $tiles (i32.lt_u (local.get $tile) (local.get $last))))))

  ;; winogradFilter: U[ξ] = (G g Gᵀ)[ξ] for input channels [first, last) of an HWIO filter g, 4 output
  ;; channels at a time, written in panels of 8 output channels ([out / 8][in][8]) for `accumulate`;
  ;; outChannels is a multiple of 8.
  (func (export "winogradFilter")
    (param $g i32) (param $u i32) (param $inChannels i32) (param $outChannels i32)
    (param $plane i32) (param $first i32) (param $last i32)
    (local $tapRow i32) (local $tapColumn i32) (local $inStride i32) (local $half v128)
    (local $in i32) (local $out i32) (local $from i32) (local $to i32)
    (local $g00 v128) (local $g01 v128) (local $g02 v128) (local $g10 v128) (local $g11 v128) (local $g12 v128) (local $g20 v128) (local $g21 v128) (local $g22 v128)
    (local $h00 v128) (local $h01 v128) (local $h02 v128) (local $h10 v128) (local $h11 v128) (local $h12 v128) (local $h20 v128) (local $h21 v128) (local $h22 v128) (local $h30 v128) (local $h31 v128) (local $h32 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $inStride (i32.shl (local.get $outChannels) (i32.const 2)))
    (local.set $tapColumn (i32.mul (local.get $inChannels) (local.get $inStride)))
    (local.set $tapRow (i32.mul (i32.const 3) (local.get $tapColumn)))
    (local.set $in (local.get $first))
    (block $empty
      (br_if $empty (i32.ge_u (local.get $first) (local.get $last)))
      (loop $ins
        (local.set $out (i32.const 0))
        (loop $outs
          (local.set $from (i32.add (local.get $g) (i32.add (i32.mul (local.get $in) (local.get $inStride)) (i32.shl (local.get $out) (i32.const 2)))))
          (local.set $g00 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g01 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g02 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          (local.set $g10 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g11 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g12 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          (local.set $g20 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g21 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g22 (v128.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          ;; G g: rows g0, ½(g0 + g1 + g2), ½(g0 − g1 + g2), g2 of each filter column.
          (local.set $h00 (local.get $g00))
          (local.set $h10 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $h20 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $h30 (local.get $g20))
          (local.set $h01 (local.get $g01))
          (local.set $h11 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $h21 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $h31 (local.get $g21))
          (local.set $h02 (local.get $g02))
          (local.set $h12 (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $g02) (local.get $g12)) (local.get $g22))))
          (local.set $h22 (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $g02) (local.get $g12)) (local.get $g22))))
          (local.set $h32 (local.get $g22))
          ;; (G g) Gᵀ, stored at U[ξ = 4a + b] + ((out / 8)·in_count·8 + in·8 + out % 8)·4.
          (local.set $to (i32.add (local.get $u) (i32.shl (i32.add (i32.add
            (i32.mul (i32.shr_u (local.get $out) (i32.const 3)) (i32.shl (local.get $inChannels) (i32.const 3)))
            (i32.shl (local.get $in) (i32.const 3))) (i32.and (local.get $out) (i32.const 7))) (i32.const 2))))
          (v128.store (local.get $to) (local.get $h00))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $h00) (local.get $h01)) (local.get $h02))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $h00) (local.get $h01)) (local.get $h02))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h02))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h10))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $h10) (local.get $h11)) (local.get $h12))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $h10) (local.get $h11)) (local.get $h12))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h12))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h20))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $h20) (local.get $h21)) (local.get $h22))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $h20) (local.get $h21)) (local.get $h22))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h22))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h30))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.add (local.get $h30) (local.get $h31)) (local.get $h32))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.add (f32x4.sub (local.get $h30) (local.get $h31)) (local.get $h32))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (local.get $h32))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $outs (i32.lt_u (local.get $out) (local.get $outChannels))))
        (local.set $in (i32.add (local.get $in) (i32.const 1)))
        (br_if $ins (i32.lt_u (local.get $in) (local.get $last))))))

  ;; winogradProducts: M[ξ] = V[ξ] · U[ξ] for rows [first, last) (multiples of 4) of each of the 16.
  (func (export "winogradProducts")
    (param $v i32) (param $u i32) (param $m i32) (param $inChannels i32) (param $outChannels i32)
    (param $chunk i32) (param $vPlane i32) (param $uPlane i32) (param $mPlane i32)
    (param $first i32) (param $last i32)
    (local $position i32) (local $to i32)
    (if (i32.ge_u (local.get $first) (local.get $last)) (then (return)))
    (local.set $v (i32.add (local.get $v) (i32.shl (i32.mul (local.get $first) (local.get $inChannels)) (i32.const 2))))
    (local.set $m (i32.add (local.get $m) (i32.shl (i32.mul (local.get $first) (local.get $outChannels)) (i32.const 2))))
    (loop $positions
      (memory.fill (local.get $m) (i32.const 0)
        (i32.shl (i32.mul (i32.sub (local.get $last) (local.get $first)) (local.get $outChannels)) (i32.const 2)))
      (call $accumulate (local.get $v) (local.get $u) (local.get $m) (i32.sub (local.get $last) (local.get $first))
        (local.get $inChannels) (local.get $outChannels) (local.get $chunk)
        (i32.shl (local.get $inChannels) (i32.const 2)) (i32.const 4))
      (local.set $v (i32.add (local.get $v) (local.get $vPlane)))
      (local.set $u (i32.add (local.get $u) (local.get $uPlane)))
      (local.set $m (i32.add (local.get $m) (local.get $mPlane)))
      (local.set $position (i32.add (local.get $position) (i32.const 1)))
      (br_if $positions (i32.lt_u (local.get $position) (i32.const 16)))))

  ;; winogradOutput: the 2×2 outputs Aᵀ M A of tiles [first, last) into an NHWC y (a tile's second row or
  ;; column is dropped where the output ends), plus bias (`bias` points at channels values, zeros for
  ;; none), then max(0, ·) where relu is 1.
  (func (export "winogradOutput")
    (param $m i32) (param $y i32) (param $bias i32) (param $outHeight i32) (param $outWidth i32)
    (param $channels i32) (param $tilesHigh i32) (param $tilesWide i32) (param $plane i32)
    (param $relu i32) (param $first i32) (param $last i32)
    (local $tile i32) (local $image i32) (local $rest i32) (local $row i32) (local $column i32)
    (local $pixel i32) (local $bytes i32) (local $offset i32) (local $from i32) (local $to i32)
    (local $secondRow i32) (local $secondColumn i32) (local $shift v128) (local $floor v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $out v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $bytes (local.get $pixel))
    ;; relu clamps at 0; otherwise at −∞, which changes nothing (NaN stays NaN either way).
    (local.set $floor (select (f32x4.splat (f32.const 0)) (f32x4.splat (f32.const -inf)) (local.get $relu)))
    (local.set $tile (local.get $first))
    (block $empty
      (br_if $empty (i32.ge_u (local.get $first) (local.get $last)))
      (loop $tiles
        (local.set $image (i32.div_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        (local.set $rest (i32.rem_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        (local.set $row (i32.shl (i32.div_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)))
        (local.set $column (i32.shl (i32.rem_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)))
        (local.set $secondRow (i32.lt_u (i32.add (local.get $row) (i32.const 1)) (local.get $outHeight)))
        (local.set $secondColumn (i32.lt_u (i32.add (local.get $column) (i32.const 1)) (local.get $outWidth)))
        (local.set $offset (i32.const 0))
        (loop $channelGroups
          (local.set $shift (v128.load (i32.add (local.get $bias) (local.get $offset))))
          (local.set $from (i32.add (i32.add (local.get $m) (i32.mul (local.get $tile) (local.get $pixel))) (local.get $offset)))
          ;; Row 0 of Aᵀ M, then its two outputs.
          (local.set $r0 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 0) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 4) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 8) (local.get $plane))))))
          (local.set $r1 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 1) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 5) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 9) (local.get $plane))))))
          (local.set $r2 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 2) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 6) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 10) (local.get $plane))))))
          (local.set $r3 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 3) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 7) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 11) (local.get $plane))))))
          (local.set $to (i32.add (i32.add (local.get $y) (local.get $offset)) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $outHeight)) (local.get $row)) (local.get $outWidth)) (local.get $column)) (local.get $pixel))))
          (v128.store (local.get $to) (f32x4.max (local.get $floor) (f32x4.add (local.get $shift) (f32x4.add (f32x4.add (local.get $r0) (local.get $r1)) (local.get $r2)))))
          (if (local.get $secondColumn) (then (v128.store (i32.add (local.get $to) (local.get $pixel)) (f32x4.max (local.get $floor) (f32x4.add (local.get $shift) (f32x4.sub (f32x4.sub (local.get $r1) (local.get $r2)) (local.get $r3)))))))
          ;; Row 1 of Aᵀ M, then its two outputs.
          (local.set $r0 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 4) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 8) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 12) (local.get $plane))))))
          (local.set $r1 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 5) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 9) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 13) (local.get $plane))))))
          (local.set $r2 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 6) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 10) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 14) (local.get $plane))))))
          (local.set $r3 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 7) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 11) (local.get $plane))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 15) (local.get $plane))))))
          (if (local.get $secondRow) (then
            (local.set $to (i32.add (i32.add (local.get $y) (local.get $offset)) (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $outHeight)) (i32.add (local.get $row) (i32.const 1))) (local.get $outWidth)) (local.get $column)) (local.get $pixel))))
            (v128.store (local.get $to) (f32x4.max (local.get $floor) (f32x4.add (local.get $shift) (f32x4.add (f32x4.add (local.get $r0) (local.get $r1)) (local.get $r2)))))
            (if (local.get $secondColumn) (then (v128.store (i32.add (local.get $to) (local.get $pixel)) (f32x4.max (local.get $floor) (f32x4.add (local.get $shift) (f32x4.sub (f32x4.sub (local.get $r1) (local.get $r2)) (local.get $r3)))))))
          ))
          (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
          (br_if $channelGroups (i32.lt_u (local.get $offset) (local.get $bytes))))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br_if $tiles (i32.lt_u (local.get $tile) (local.get $last))))))

  ;; The filter gradient of the same convolution, Winograd's way: dU[ξ] = Σ over tiles of V[ξ]ᵀ · dM[ξ],
  ;; dM = A dy Aᵀ for each tile's 2×2 block of the output gradient dy, then dg = Gᵀ dU G. V is the forward
  ;; input transform (winogradInput); 16 products [in][tiles] · [tiles][out] replace the direct method's 9
  ;; over four times as many positions.

  ;; winogradOutputGradient: dM[ξ] = (A e Aᵀ)[ξ] for tiles [first, last) of an NHWC dy, e a tile's 2×2
  ;; block (zero where it falls off the output), written in panels of 8 channels ([out / 8][tiles][8]) as
  ;; `accumulate` reads B; channels is a multiple of 8.
  (func (export "winogradOutputGradient")
    (param $dy i32) (param $dm i32) (param $outHeight i32) (param $outWidth i32) (param $channels i32)
    (param $tilesHigh i32) (param $tilesWide i32) (param $tiles i32) (param $plane i32)
    (param $first i32) (param $last i32)
    (local $tile i32) (local $image i32) (local $rest i32) (local $row i32) (local $column i32)
    (local $pixel i32) (local $rowBytes i32) (local $offset i32) (local $from i32) (local $to i32)
    (local $panelStride i32) (local $secondRow i32) (local $secondColumn i32)
    (local $e00 v128) (local $e01 v128) (local $e10 v128) (local $e11 v128) (local $s0 v128) (local $s1 v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $outWidth) (local.get $pixel)))
    (local.set $panelStride (i32.shl (local.get $tiles) (i32.const 5)))
    (local.set $tile (local.get $first))
    (block $empty
      (br_if $empty (i32.ge_u (local.get $first) (local.get $last)))
      (loop $tiles
        (local.set $image (i32.div_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        (local.set $rest (i32.rem_u (local.get $tile) (i32.mul (local.get $tilesHigh) (local.get $tilesWide))))
        (local.set $row (i32.shl (i32.div_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)))
        (local.set $column (i32.shl (i32.rem_u (local.get $rest) (local.get $tilesWide)) (i32.const 1)))
        (local.set $secondRow (i32.lt_u (i32.add (local.get $row) (i32.const 1)) (local.get $outHeight)))
        (local.set $secondColumn (i32.lt_u (i32.add (local.get $column) (i32.const 1)) (local.get $outWidth)))
        (local.set $from (i32.add (local.get $dy) (i32.add
          (i32.mul (i32.add (i32.mul (local.get $image) (local.get $outHeight)) (local.get $row)) (local.get $rowBytes))
          (i32.mul (local.get $column) (local.get $pixel)))))
        (local.set $offset (i32.const 0))
        (loop $channelGroups
          (local.set $e00 (v128.load (i32.add (local.get $from) (local.get $offset))))
          (local.set $e01 (if (result v128) (local.get $secondColumn)
            (then (v128.load (i32.add (i32.add (local.get $from) (local.get $pixel)) (local.get $offset))))
            (else (v128.const i32x4 0 0 0 0))))
          (local.set $e10 (if (result v128) (local.get $secondRow)
            (then (v128.load (i32.add (i32.add (local.get $from) (local.get $rowBytes)) (local.get $offset))))
            (else (v128.const i32x4 0 0 0 0))))
          (local.set $e11 (if (result v128) (i32.and (local.get $secondRow) (local.get $secondColumn))
            (then (v128.load (i32.add (i32.add (local.get $from) (i32.add (local.get $rowBytes) (local.get $pixel))) (local.get $offset))))
            (else (v128.const i32x4 0 0 0 0))))
          ;; The tile's 4 values of these channels in their panel: (offset / 32) panels on, 8 floats a tile.
          (local.set $to (i32.add (i32.add (local.get $dm) (i32.mul (i32.shr_u (local.get $offset) (i32.const 5)) (local.get $panelStride)))
            (i32.add (i32.shl (local.get $tile) (i32.const 5)) (i32.and (local.get $offset) (i32.const 31)))))
          ;; Row i of A e is (s0, s1); its columns through Aᵀ are s0, s0 + s1, s0 − s1, −s1.
          (local.set $s0 (local.get $e00))
          (local.set $s1 (local.get $e01))
          (v128.store (local.get $to) (local.get $s0))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.neg (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (local.set $s0 (f32x4.add (local.get $e00) (local.get $e10)))
          (local.set $s1 (f32x4.add (local.get $e01) (local.get $e11)))
          (v128.store (local.get $to) (local.get $s0))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.neg (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (local.set $s0 (f32x4.sub (local.get $e00) (local.get $e10)))
          (local.set $s1 (f32x4.sub (local.get $e01) (local.get $e11)))
          (v128.store (local.get $to) (local.get $s0))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.neg (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (local.set $s0 (f32x4.neg (local.get $e10)))
          (local.set $s1 (f32x4.neg (local.get $e11)))
          (v128.store (local.get $to) (local.get $s0))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.add (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.sub (local.get $s0) (local.get $s1)))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (v128.store (local.get $to) (f32x4.neg (local.get $s1)))
          (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
          (br_if $channelGroups (i32.lt_u (local.get $offset) (local.get $pixel))))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br_if $tiles (i32.lt_u (local.get $tile) (local.get $last))))))

  ;; winogradGradientProducts: dU[ξ] += V[ξ]ᵀ · dM[ξ] for input channels (rows of dU) [first, last),
  ;; multiples of 4, of each of the 16; V[ξ] is [tiles][inChannels], read transposed.
  (func (export "winogradGradientProducts")
    (param $v i32) (param $dm i32) (param $du i32) (param $inChannels i32) (param $tiles i32)
    (param $outChannels i32) (param $chunk i32) (param $vPlane i32) (param $dmPlane i32) (param $duPlane i32)
    (param $first i32) (param $last i32)
    (local $position i32)
    (if (i32.ge_u (local.get $first) (local.get $last)) (then (return)))
    (local.set $v (i32.add (local.get $v) (i32.shl (local.get $first) (i32.const 2))))
    (local.set $du (i32.add (local.get $du) (i32.shl (i32.mul (local.get $first) (local.get $outChannels)) (i32.const 2))))
    (loop $positions
      (call $accumulate (local.get $v) (local.get $dm) (local.get $du) (i32.sub (local.get $last) (local.get $first)) (local.get $tiles)
        (local.get $outChannels) (local.get $chunk) (i32.const 4) (i32.shl (local.get $inChannels) (i32.const 2)))
      (local.set $v (i32.add (local.get $v) (local.get $vPlane)))
      (local.set $dm (i32.add (local.get $dm) (local.get $dmPlane)))
      (local.set $du (i32.add (local.get $du) (local.get $duPlane)))
      (local.set $position (i32.add (local.get $position) (i32.const 1)))
      (br_if $positions (i32.lt_u (local.get $position) (i32.const 16)))))

  ;; winogradFilterGradient: dg = Gᵀ dU G for input channels [first, last), 4 output channels at a time,
  ;; into an HWIO dw. Gᵀ's rows combine u0 + ½(u1 + u2), ½(u1 − u2) and ½(u1 + u2) + u3.
  (func (export "winogradFilterGradient")
    (param $du i32) (param $dw i32) (param $inChannels i32) (param $outChannels i32) (param $plane i32)
    (param $first i32) (param $last i32)
    (local $in i32) (local $offset i32) (local $from i32) (local $to i32) (local $tap i32) (local $half v128)
    (local $h00 v128) (local $h01 v128) (local $h02 v128) (local $h03 v128) (local $h10 v128) (local $h11 v128) (local $h12 v128) (local $h13 v128) (local $h20 v128) (local $h21 v128) (local $h22 v128) (local $h23 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $tap (i32.shl (i32.mul (local.get $inChannels) (local.get $outChannels)) (i32.const 2)))
    (local.set $in (local.get $first))
    (block $empty
      (br_if $empty (i32.ge_u (local.get $first) (local.get $last)))
      (loop $ins
        (local.set $offset (i32.const 0))
        (loop $outGroups
          (local.set $from (i32.add (local.get $du) (i32.add (i32.shl (i32.mul (local.get $in) (local.get $outChannels)) (i32.const 2)) (local.get $offset))))
          ;; Gᵀ dU: h[k][b] over dU's rows a, for each column b.
          (local.set $h00 (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 0) (local.get $plane)))) (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 4) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 8) (local.get $plane))))))))
          (local.set $h10 (f32x4.mul (local.get $half) (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 4) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 8) (local.get $plane)))))))
          (local.set $h20 (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 4) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 8) (local.get $plane)))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 12) (local.get $plane))))))
          (local.set $h01 (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 1) (local.get $plane)))) (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 5) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 9) (local.get $plane))))))))
          (local.set $h11 (f32x4.mul (local.get $half) (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 5) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 9) (local.get $plane)))))))
          (local.set $h21 (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 5) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 9) (local.get $plane)))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 13) (local.get $plane))))))
          (local.set $h02 (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 2) (local.get $plane)))) (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 6) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 10) (local.get $plane))))))))
          (local.set $h12 (f32x4.mul (local.get $half) (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 6) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 10) (local.get $plane)))))))
          (local.set $h22 (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 6) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 10) (local.get $plane)))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 14) (local.get $plane))))))
          (local.set $h03 (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 3) (local.get $plane)))) (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 7) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 11) (local.get $plane))))))))
          (local.set $h13 (f32x4.mul (local.get $half) (f32x4.sub (v128.load (i32.add (local.get $from) (i32.mul (i32.const 7) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 11) (local.get $plane)))))))
          (local.set $h23 (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (v128.load (i32.add (local.get $from) (i32.mul (i32.const 7) (local.get $plane)))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 11) (local.get $plane)))))) (v128.load (i32.add (local.get $from) (i32.mul (i32.const 15) (local.get $plane))))))
          ;; (Gᵀ dU) G: dw[k][l] over h's columns, stored at dw + (k·3 + l)·tap + (in·out)·4 + offset.
          (local.set $to (i32.add (local.get $dw) (i32.add (i32.shl (i32.mul (local.get $in) (local.get $outChannels)) (i32.const 2)) (local.get $offset))))
          (v128.store (local.get $to) (f32x4.add (local.get $h00) (f32x4.mul (local.get $half) (f32x4.add (local.get $h01) (local.get $h02)))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.sub (local.get $h01) (local.get $h02))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (local.get $h01) (local.get $h02))) (local.get $h03)))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.add (local.get $h10) (f32x4.mul (local.get $half) (f32x4.add (local.get $h11) (local.get $h12)))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.sub (local.get $h11) (local.get $h12))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (local.get $h11) (local.get $h12))) (local.get $h13)))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.add (local.get $h20) (f32x4.mul (local.get $half) (f32x4.add (local.get $h21) (local.get $h22)))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.mul (local.get $half) (f32x4.sub (local.get $h21) (local.get $h22))))
          (local.set $to (i32.add (local.get $to) (local.get $tap)))
          (v128.store (local.get $to) (f32x4.add (f32x4.mul (local.get $half) (f32x4.add (local.get $h21) (local.get $h22))) (local.get $h23)))
          (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
          (br_if $outGroups (i32.lt_u (local.get $offset) (i32.shl (local.get $outChannels) (i32.const 2)))))
        (local.set $in (i32.add (local.get $in) (i32.const 1)))
        (br_if $ins (i32.lt_u (local.get $in) (local.get $last))))))

  ;; Element-wise kernels over the values [first, last) of f32 arrays (first and last multiples of 4: the
  ;; caller pads): erf and its gradient, which GELU (x·Φ(x), Φ from erf) runs on every activation. wasm's
  ;; own Erf and tfjs-core's gradient (five kernels: square, negate, exp and two products) compute one value
  ;; at a time on one thread; these take 4 values per instruction and share the values between threads.

  ;; $exp: eˣ for 4 values, as Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so that n·ln2
  ;; is exact), a degree-6 polynomial for eʳ, and 2ⁿ written into the exponent bits. x is clamped to
  ;; [−87.3, 88.3], where 2ⁿ stays a normal float; NaN stays NaN.
  (func $exp (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (f32x4.splat (f32.const -87.3)))
      (f32x4.splat (f32.const 88.3))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    (local.set $r (f32x4.sub
      (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375))))
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) (f32x4.splat (f32.const 1.9875691500e-4)))
      (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    ;; eʳ = p·r² + r + 1
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127)))
        (i32.const 23))))

  ;; erf: y = erf(x) by Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7; TF.js' cpu backend uses the
  ;; same formula): t = 1/(1 + p|x|), erf|x| = 1 − t(a₁ + t(a₂ + t(a₃ + t(a₄ + t a₅))))·e^(−x²), with x's sign.
  (func (export "erf") (param $x i32) (param $y i32) (param $first i32) (param $last i32)
    (local $at i32) (local $end i32) (local $v v128) (local $a v128) (local $t v128) (local $p v128)
    (local.set $at (i32.shl (local.get $first) (i32.const 2)))
    (local.set $end (i32.shl (local.get $last) (i32.const 2)))
    (if (i32.lt_u (local.get $at) (local.get $end))
      (then
        (loop $values
          (local.set $v (v128.load (i32.add (local.get $x) (local.get $at))))
          (local.set $a (f32x4.abs (local.get $v)))
          (local.set $t (f32x4.div (f32x4.splat (f32.const 1))
            (f32x4.add (f32x4.splat (f32.const 1)) (f32x4.mul (local.get $a) (f32x4.splat (f32.const 0.3275911))))))
          (local.set $p (f32x4.add (f32x4.mul (local.get $t) (f32x4.splat (f32.const 1.061405429)))
            (f32x4.splat (f32.const -1.453152027))))
          (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (f32x4.splat (f32.const 1.421413741))))
          (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (f32x4.splat (f32.const -0.284496736))))
          (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (f32x4.splat (f32.const 0.254829592))))
          (local.set $p (f32x4.sub (f32x4.splat (f32.const 1))
            (f32x4.mul (f32x4.mul (local.get $p) (local.get $t))
              (call $exp (f32x4.neg (f32x4.mul (local.get $a) (local.get $a)))))))
          (v128.store (i32.add (local.get $y) (local.get $at))
            (v128.or (local.get $p) (v128.and (local.get $v) (i32x4.splat (i32.const 0x80000000)))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (br_if $values (i32.lt_u (local.get $at) (local.get $end)))))))

  ;; erfGradient: dx = dy · (2/√π) · e^(−x²), the derivative of erf at x times the incoming gradient.
  (func (export "erfGradient")
    (param $x i32) (param $dy i32) (param $dx i32) (param $first i32) (param $last i32)
    (local $at i32) (local $end i32) (local $v v128)
    (local.set $at (i32.shl (local.get $first) (i32.const 2)))
    (local.set $end (i32.shl (local.get $last) (i32.const 2)))
    (if (i32.lt_u (local.get $at) (local.get $end))
      (then
        (loop $values
          (local.set $v (v128.load (i32.add (local.get $x) (local.get $at))))
          (v128.store (i32.add (local.get $dx) (local.get $at))
            (f32x4.mul
              (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $at)))
                (f32x4.splat (f32.const 1.1283791670955126)))
              (call $exp (f32x4.neg (f32x4.mul (local.get $v) (local.get $v))))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (br_if $values (i32.lt_u (local.get $at) (local.get $end)))))))

  ;; maxPoolGradient: the gradient of 2×2 max pooling at stride 2 without padding, for output rows
  ;; [first, last) counted over every image (row r: image r / outHeight, window row r mod outHeight), 4
  ;; channels at a time (channels a multiple of 4). Each window's first maximum in row-major order (top
  ;; left, top right, bottom left, bottom right: TensorFlow's rule on ties; NaN never beats) gets dy, its
  ;; other three inputs 0. Inputs in no window (the last row or column of an odd size) are the caller's.
  (func (export "maxPoolGradient")
    (param $x i32) (param $dy i32) (param $dx i32) (param $height i32) (param $width i32)
    (param $channels i32) (param $outHeight i32) (param $outWidth i32) (param $first i32) (param $last i32)
    (local $row i32) (local $windowRow i32) (local $channelBytes i32) (local $rowBytes i32)
    (local $top i32) (local $g i32) (local $column i32) (local $window i32) (local $offset i32)
    (local $tl i32) (local $bl i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $grad v128) (local $best v128)
    (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $channelBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $width) (local.get $channelBytes)))
    (local.set $row (local.get $first))
    (if (i32.lt_u (local.get $row) (local.get $last))
      (then
        (loop $rows
          (local.set $windowRow (i32.rem_u (local.get $row) (local.get $outHeight)))
          ;; The window's top input row: row 2·windowRow of image row / outHeight.
          (local.set $top (i32.mul
            (i32.add (i32.mul (i32.div_u (local.get $row) (local.get $outHeight)) (local.get $height))
              (i32.shl (local.get $windowRow) (i32.const 1)))
            (local.get $rowBytes)))
          (local.set $g (i32.add (local.get $dy)
            (i32.mul (local.get $row) (i32.mul (local.get $outWidth) (local.get $channelBytes)))))
          (local.set $column (i32.const 0))
          (loop $windows
            (local.set $window (i32.add (local.get $top)
              (i32.shl (i32.mul (local.get $column) (local.get $channelBytes)) (i32.const 1))))
            (local.set $offset (i32.const 0))
            (loop $groups
              (local.set $tl (i32.add (local.get $window) (local.get $offset)))
              (local.set $bl (i32.add (local.get $tl) (local.get $rowBytes)))
              (local.set $a (v128.load (i32.add (local.get $x) (local.get $tl))))
              (local.set $b (v128.load (i32.add (local.get $x) (i32.add (local.get $tl) (local.get $channelBytes)))))
              (local.set $c (v128.load (i32.add (local.get $x) (local.get $bl))))
              (local.set $d (v128.load (i32.add (local.get $x) (i32.add (local.get $bl) (local.get $channelBytes)))))
              (local.set $grad (v128.load (local.get $g)))
              ;; m1: top right beats top left; m2: bottom left beats both; m3: bottom right beats all three.
              (local.set $m1 (f32x4.gt (local.get $b) (local.get $a)))
              (local.set $best (v128.bitselect (local.get $b) (local.get $a) (local.get $m1)))
              (local.set $m2 (f32x4.gt (local.get $c) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $c) (local.get $best) (local.get $m2)))
              (local.set $m3 (f32x4.gt (local.get $d) (local.get $best)))
              (v128.store (i32.add (local.get $dx) (local.get $tl))
                (v128.andnot (local.get $grad)
                  (v128.or (v128.or (local.get $m1) (local.get $m2)) (local.get $m3))))
              (v128.store (i32.add (local.get $dx) (i32.add (local.get $tl) (local.get $channelBytes)))
                (v128.and (local.get $grad)
                  (v128.andnot (local.get $m1) (v128.or (local.get $m2) (local.get $m3)))))
              (v128.store (i32.add (local.get $dx) (local.get $bl))
                (v128.and (local.get $grad) (v128.andnot (local.get $m2) (local.get $m3))))
              (v128.store (i32.add (local.get $dx) (i32.add (local.get $bl) (local.get $channelBytes)))
                (v128.and (local.get $grad) (local.get $m3)))
              (local.set $g (i32.add (local.get $g) (i32.const 16)))
              (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
              (br_if $groups (i32.lt_u (local.get $offset) (local.get $channelBytes))))
            (local.set $column (i32.add (local.get $column) (i32.const 1)))
            (br_if $windows (i32.lt_u (local.get $column) (local.get $outWidth))))
          (local.set $row (i32.add (local.get $row) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $row) (local.get $last))))))))
