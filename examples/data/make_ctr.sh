#!/bin/sh
# make_ctr.sh: writes a synthetic click-through data set for examples/ctr.mtl.
#
#   sh examples/data/make_ctr.sh [ROWS] [SEED] > examples/data/ctr.csv
#
# Each row is one impression: four categorical fields (user segment, item
# category, device, region), three numeric ones (price, hour, position in the
# list), whether it was clicked and, only where it was clicked, whether it
# converted (empty otherwise: conversion is labelled on clicked rows only, as
# in ESMM, Ma et al. 2018). A hidden logistic model makes the labels:
#
#   P(click)          = sigmoid(-1.4 + user_c + item_c + device_c - 0.35 (position - 1)
#                               + 0.4 cos(2 pi hour / 24))
#   P(convert | click) = sigmoid(-0.6 + user_v + item_v + region_v - 0.8 ln(price / 20))
#
# where the per-value effects (user_c, item_v, ...) are drawn once from
# N(0, 0.8^2). The random numbers come from the Park-Miller generator
# (x := 48271 x mod 2^31 - 1), exact in awk's doubles, so every awk writes the
# same file for the same ROWS and SEED.
rows=${1:-30000}
seed=${2:-7}
exec awk -v rows="$rows" -v seed="$seed" '
function uniform() { state = (48271 * state) % 2147483647; return state / 2147483647 }
function normal(   u) { u = uniform(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * uniform()) }
function pick(n) { return int(uniform() * n) }
function sigmoid(z) { return 1 / (1 + exp(-z)) }
BEGIN {
  state = seed % 2147483646 + 1
  split("mobile desktop tablet tv", devices, " ")
  for (i = 0; i < 40; i++) { userC[i] = 0.8 * normal(); userV[i] = 0.8 * normal() }
  for (i = 0; i < 30; i++) { itemC[i] = 0.8 * normal(); itemV[i] = 0.8 * normal() }
  for (i = 1; i <= 4; i++) deviceC[i] = 0.8 * normal()
  for (i = 0; i < 20; i++) regionV[i] = 0.8 * normal()
  print "user_segment,item_category,device,region,price,hour,position,click,conversion"
  for (r = 0; r < rows; r++) {
    # Skewed traffic: low-numbered users and items are seen more often.
    u = int(40 * uniform() * uniform()); c = int(30 * uniform() * uniform())
    d = 1 + pick(4); g = pick(20)
    price = 20 * exp(0.7 * normal()); hour = pick(24); position = 1 + pick(5)
    zc = -1.4 + userC[u] + itemC[c] + deviceC[d] - 0.35 * (position - 1) \
         + 0.4 * cos(6.283185307179586 * hour / 24)
    click = uniform() < sigmoid(zc) ? 1 : 0
    conversion = ""
    if (click) {
      zv = -0.6 + userV[u] + itemV[c] + regionV[g] - 0.8 * log(price / 20)
      conversion = uniform() < sigmoid(zv) ? 1 : 0
    }
    printf "u%d,cat%d,%s,r%d,%.2f,%d,%d,%d,%s\n", u, c, devices[d], g, price, hour, position,
           click, conversion
  }
}'
