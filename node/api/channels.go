package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
)

func (s *Server) listChannels(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.communityJSON(c).Channels, nil
}

func (s *Server) createChannel(r *http.Request) (int, any, error) {
	c, err := s.community(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name  string `json:"name"`
		Topic string `json:"topic"`
		Type  string `json:"type"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	typ := crdt.ChannelText
	switch in.Type {
	case "", "text":
	case "voice":
		typ = crdt.ChannelVoice
	default:
		return 0, nil, invalid("type must be text or voice")
	}
	if err := checkName(in.Name); err != nil {
		return 0, nil, err
	}
	if utf8.RuneCountInString(in.Topic) > crdt.MaxTopicLen || !utf8.ValidString(in.Topic) {
		return 0, nil, invalid("topic longer than %d characters", crdt.MaxTopicLen)
	}
	id, err := s.node.CreateChannel(r.Context(), c.ID, in.Name, typ)
	if err != nil {
		return 0, nil, err
	}
	if in.Topic != "" {
		if err := s.node.UpdateChannel(r.Context(), c.ID, id, node.ChannelUpdate{Topic: &in.Topic}); err != nil {
			return 0, nil, err
		}
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.channelJSON(c.ID, c.Channels[id]), nil
}

// channelRoute resolves the {id} of a channel route to its community.
func (s *Server) channelRoute(r *http.Request) (*crdt.Community, crdt.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, id, err
	}
	c, err := s.node.ChannelCommunity(id)
	return c, id, err
}

func (s *Server) patchChannel(r *http.Request) (int, any, error) {
	c, id, err := s.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Name     *string `json:"name"`
		Topic    *string `json:"topic"`
		Position *int64  `json:"position"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return 0, nil, err
		}
	}
	if in.Topic != nil && (utf8.RuneCountInString(*in.Topic) > crdt.MaxTopicLen || !utf8.ValidString(*in.Topic)) {
		return 0, nil, invalid("topic longer than %d characters", crdt.MaxTopicLen)
	}
	if err := s.node.UpdateChannel(r.Context(), c.ID, id, node.ChannelUpdate{Name: in.Name, Topic: in.Topic, Position: in.Position}); err != nil {
		return 0, nil, err
	}
	c, err = s.node.Community(c.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.channelJSON(c.ID, c.Channels[id]), nil
}

func (s *Server) deleteChannel(r *http.Request) (int, any, error) {
	c, id, err := s.channelRoute(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.node.DeleteChannel(r.Context(), c.ID, id)
}
