// Package event mirrors Flux's eventv1.Event, the data an Alert's message template reads, so
// that templates written against Flux's event print and fail the same way here.
package event

import (
	"strings"
	"time"
)

// Event is eventv1.Event. The JSON the notification program sends uses its lower-case names;
// encoding/json matches field names without regard to case.
type Event struct {
	InvolvedObject      ObjectReference
	Severity            string
	Timestamp           Time
	Message             string
	Reason              string
	Metadata            map[string]string
	ReportingController string
	ReportingInstance   string
}

// ObjectReference is corev1.ObjectReference, with the fields an event carries.
type ObjectReference struct {
	Kind, Namespace, Name, UID, APIVersion, ResourceVersion, FieldPath string
}

// Time is metav1.Time: it embeds time.Time, so `.Timestamp.Format "15:04"` and `.Timestamp.Unix`
// work, and an empty or absent timestamp is the zero time instead of an error. Unlike metav1 it
// keeps the zone it was written in (UTC from the API server), so output does not depend on $TZ.
type Time struct{ time.Time }

func (t *Time) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		t.Time = time.Time{}
		return nil
	}
	parsed, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}
