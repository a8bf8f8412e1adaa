package api

import "time"

// StatusAt returns the status a seal had at time t according to its history (oldest first):
// the last event at or before t; before the first event, the first event's status. A change
// takes effect from the start of its second: signing times carry whole seconds, so a
// signature claimed within the second of a revocation cannot be shown to precede it.
func StatusAt(history []StatusEvent, t time.Time) StatusEvent {
	if len(history) == 0 {
		return StatusEvent{Status: StatusUnknown}
	}
	cur := history[0]
	for _, ev := range history[1:] {
		if ev.At.Truncate(time.Second).After(t) {
			break
		}
		cur = ev
	}
	return cur
}
