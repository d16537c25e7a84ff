package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// peopleSVG is the People tab's icon: two people, one before the other
// (the people who act for you and those you act for). Fyne has one
// person (theme.AccountIcon), which the Identities tab uses for "you";
// People needs its own, or the two tabs look the same. Drawn for this
// app on Fyne's 24x24 grid; the fill is replaced by the theme's colours.
const peopleSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">` +
	`<circle cx="16.5" cy="7.5" r="3" fill="#000000"/>` +
	`<path d="M15.3 13.2c.4-.05.8-.07 1.2-.07 2.6 0 6.5 1.3 6.5 3.9V19.5h-4.6v-1.9c0-1.8-1.1-3.3-3.1-4.4z" fill="#000000"/>` +
	`<circle cx="8.5" cy="8" r="3.6" fill="#000000"/>` +
	`<path d="M1 19.5v-1.8c0-2.9 5-4.4 7.5-4.4s7.5 1.5 7.5 4.4v1.8z" fill="#000000"/>` +
	`</svg>`

// peopleIcon is peopleSVG as a themed resource: drawn in the foreground
// colour, and in the primary colour on the selected tab, as Fyne's own
// icons are.
var peopleIcon fyne.Resource = theme.NewThemedResource(fyne.NewStaticResource("people.svg", []byte(peopleSVG)))
