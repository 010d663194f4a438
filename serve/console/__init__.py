"""The staff console: one static Korean page (index.html + console.js) served at /console."""
