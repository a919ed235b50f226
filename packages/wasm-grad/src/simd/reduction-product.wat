;; This package's WebAssembly SIMD kernels, all built on one matrix product, `accumulate`: a convolution's
;; filter gradient (`patches` writes A, the input's patch matrix, `panels` lays out B, the output gradient,
;; and `accumulate` adds A·B to C), and 3×3 convolutions at stride 1 by Winograd (the `winograd*`
;; functions below). Each takes a range of rows or tiles, so threads can share one call.
;;
;; accumulate: C[rows][columns] += A[rows][depth] · B[depth][columns]. A filter gradient's depth (the summed
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
    (local $first i32) (local $last i32) (local $row i32) (local $column i32)
    (local $rowStride i32) (local $columnStride i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $count i32) (local $b0 v128) (local $b1 v128) (local $splat v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowStride (i32.shl (local.get $depth) (i32.const 2)))
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
            (i32.shl (i32.add (i32.mul (local.get $row) (local.get $depth)) (local.get $first))
              (i32.const 2))))
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
            (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
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

  ;; winogradFilter: U[ξ] = (G g Gᵀ)[ξ] for input channels [first, last) of an HWIO filter g, written in
  ;; panels of 8 output channels ([out / 8][in][8]) for `accumulate`; outChannels is a multiple of 8.
  (func (export "winogradFilter")
    (param $g i32) (param $u i32) (param $inChannels i32) (param $outChannels i32)
    (param $plane i32) (param $first i32) (param $last i32)
    (local $tapRow i32) (local $tapColumn i32) (local $inStride i32)
    (local $in i32) (local $out i32) (local $from i32) (local $to i32)
    (local $g00 f32) (local $g01 f32) (local $g02 f32) (local $g10 f32) (local $g11 f32) (local $g12 f32) (local $g20 f32) (local $g21 f32) (local $g22 f32)
    (local $h00 f32) (local $h01 f32) (local $h02 f32) (local $h10 f32) (local $h11 f32) (local $h12 f32) (local $h20 f32) (local $h21 f32) (local $h22 f32) (local $h30 f32) (local $h31 f32) (local $h32 f32)
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
          (local.set $g00 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g01 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g02 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 0) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          (local.set $g10 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g11 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g12 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 1) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          (local.set $g20 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 0) (local.get $tapColumn))))))
          (local.set $g21 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 1) (local.get $tapColumn))))))
          (local.set $g22 (f32.load (i32.add (local.get $from) (i32.add (i32.mul (i32.const 2) (local.get $tapRow)) (i32.mul (i32.const 2) (local.get $tapColumn))))))
          ;; G g: rows g0, ½(g0 + g1 + g2), ½(g0 − g1 + g2), g2 of each filter column.
          (local.set $h00 (local.get $g00))
          (local.set $h10 (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $h20 (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $g00) (local.get $g10)) (local.get $g20))))
          (local.set $h30 (local.get $g20))
          (local.set $h01 (local.get $g01))
          (local.set $h11 (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $h21 (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $g01) (local.get $g11)) (local.get $g21))))
          (local.set $h31 (local.get $g21))
          (local.set $h02 (local.get $g02))
          (local.set $h12 (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $g02) (local.get $g12)) (local.get $g22))))
          (local.set $h22 (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $g02) (local.get $g12)) (local.get $g22))))
          (local.set $h32 (local.get $g22))
          ;; (G g) Gᵀ, stored at U[ξ = 4a + b] + ((out / 8)·in_count·8 + in·8 + out % 8)·4.
          (local.set $to (i32.add (local.get $u) (i32.shl (i32.add (i32.add
            (i32.mul (i32.shr_u (local.get $out) (i32.const 3)) (i32.shl (local.get $inChannels) (i32.const 3)))
            (i32.shl (local.get $in) (i32.const 3))) (i32.and (local.get $out) (i32.const 7))) (i32.const 2))))
          (f32.store (local.get $to) (local.get $h00))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $h00) (local.get $h01)) (local.get $h02))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $h00) (local.get $h01)) (local.get $h02))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h02))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h10))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $h10) (local.get $h11)) (local.get $h12))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $h10) (local.get $h11)) (local.get $h12))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h12))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h20))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $h20) (local.get $h21)) (local.get $h22))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $h20) (local.get $h21)) (local.get $h22))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h22))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h30))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.add (local.get $h30) (local.get $h31)) (local.get $h32))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (f32.mul (f32.const 0.5) (f32.add (f32.sub (local.get $h30) (local.get $h31)) (local.get $h32))))
          (local.set $to (i32.add (local.get $to) (local.get $plane)))
          (f32.store (local.get $to) (local.get $h32))
          (local.set $out (i32.add (local.get $out) (i32.const 1)))
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
        (local.get $inChannels) (local.get $outChannels) (local.get $chunk))
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
        (br_if $tiles (i32.lt_u (local.get $tile) (local.get $last)))))))
