;; A convolution's filter gradient as a product: `patches` writes A, the input's patch matrix, `panels`
;; lays out B, the output gradient, and `accumulate` adds A·B to C. Each takes a range of rows, so threads
;; can share one product.
;;
;; accumulate: C[rows][columns] += A[rows][depth] · B[depth][columns], for products whose depth (the summed
;; axis) is far longer than their result: a filter gradient sums over every output position of the batch.
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
  (func (export "accumulate")
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
      (br_if $rows (i32.lt_u (local.get $row) (local.get $last))))))
