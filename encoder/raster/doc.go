// Package raster draws a label.Layout as an image, dot for dot at the
// profile's resolution: the PNG preview of a label, and the bitmaps the ZPL
// encoder sends as ^GF graphics for symbologies a printer lacks.
//
// Code 128 and GS1-128 bars come from the same symbol characters the ZPL
// encoder writes, QR symbols from go-qrcode at the version the layout chose,
// DataMatrix from boombuler/barcode at the layout's size, and text from the
// Go Bold font the layout measured with, so the preview shows what the
// layout checked.
package raster
