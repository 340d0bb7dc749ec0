"""initial schema: layers, versioned grids, events, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:51:40.856564
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('admin_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('metric_srid', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("(level = 'district') = (parent_id IS NULL)", name=op.f('ck_admin_area_parent_iff_not_district')),
    sa.CheckConstraint("level IN ('district', 'street', 'community')", name=op.f('ck_admin_area_level_allowed')),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_area.id'], name=op.f('fk_admin_area_parent_id_admin_area'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_area')),
    sa.UniqueConstraint('code', name=op.f('uq_admin_area_code'))
    )
    op.create_geospatial_index('idx_admin_area_geom', 'admin_area', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_admin_area_level'), 'admin_area', ['level'], unique=False)
    op.create_index(op.f('ix_admin_area_parent_id'), 'admin_area', ['parent_id'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('entity', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity', 'entity_id'], unique=False)
    op.create_table('grid_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Text(), server_default='system', nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('is_current', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_version'))
    )
    op.create_index('uq_grid_version_one_current', 'grid_version', ['is_current'], unique=True, postgresql_where=sa.text('is_current'))
    op.create_geospatial_table('grid_worker',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='off_duty', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("status IN ('on_duty', 'busy', 'off_duty')", name=op.f('ck_grid_worker_status_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_worker')),
    sa.UniqueConstraint('code', name=op.f('uq_grid_worker_code'))
    )
    op.create_geospatial_index('idx_grid_worker_geom', 'grid_worker', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grid_worker_status'), 'grid_worker', ['status'], unique=False)
    op.create_geospatial_table('resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('capacity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind IN ('fire_station', 'hospital', 'police_post', 'shelter', 'emergency_team', 'supply_depot')", name=op.f('ck_resource_kind_allowed')),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_resource_capacity_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource')),
    sa.UniqueConstraint('code', name=op.f('uq_resource_code'))
    )
    op.create_geospatial_index('idx_resource_geom', 'resource', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_resource_kind'), 'resource', ['kind'], unique=False)
    op.create_geospatial_table('road',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind IN ('arterial', 'local')", name=op.f('ck_road_kind_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_road')),
    sa.UniqueConstraint('code', name=op.f('uq_road_code'))
    )
    op.create_geospatial_index('idx_road_geom', 'road', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('water',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water')),
    sa.UniqueConstraint('code', name=op.f('uq_water_code'))
    )
    op.create_geospatial_index('idx_water_geom', 'water', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('zone', sa.Text(), nullable=False),
    sa.Column('btype', sa.Text(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("zone IN ('inner', 'outer')", name=op.f('ck_block_zone_allowed')),
    sa.ForeignKeyConstraint(['community_id'], ['admin_area.id'], name=op.f('fk_block_community_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block')),
    sa.UniqueConstraint('code', name=op.f('uq_block_code'))
    )
    op.create_geospatial_index('idx_block_geom', 'block', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_block_community_id'), 'block', ['community_id'], unique=False)
    op.create_geospatial_table('grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('zone', sa.Text(), nullable=False),
    sa.Column('households', sa.Integer(), server_default='0', nullable=False),
    sa.Column('population', sa.Integer(), server_default='0', nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("zone IN ('inner', 'outer')", name=op.f('ck_grid_zone_allowed')),
    sa.CheckConstraint('households >= 0 AND population >= 0', name=op.f('ck_grid_counts_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['admin_area.id'], name=op.f('fk_grid_community_id_admin_area')),
    sa.ForeignKeyConstraint(['version_id'], ['grid_version.id'], name=op.f('fk_grid_version_id_grid_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['grid_worker.id'], name=op.f('fk_grid_worker_id_grid_worker'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid')),
    sa.UniqueConstraint('version_id', 'code', name=op.f('uq_grid_version_id_code')),
    sa.UniqueConstraint('version_id', 'worker_id', name=op.f('uq_grid_version_id_worker_id'))
    )
    op.create_geospatial_index('idx_grid_geom', 'grid', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grid_community_id'), 'grid', ['community_id'], unique=False)
    op.create_index(op.f('ix_grid_version_id'), 'grid', ['version_id'], unique=False)
    op.create_geospatial_table('building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('btype', sa.Text(), nullable=True),
    sa.Column('floors', sa.Integer(), server_default='1', nullable=False),
    sa.Column('households', sa.Integer(), server_default='0', nullable=False),
    sa.Column('population', sa.Integer(), server_default='0', nullable=False),
    sa.Column('zone', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('cell', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("zone IN ('inner', 'outer')", name=op.f('ck_building_zone_allowed')),
    sa.CheckConstraint('floors >= 0 AND households >= 0 AND population >= 0', name=op.f('ck_building_counts_not_negative')),
    sa.ForeignKeyConstraint(['block_id'], ['block.id'], name=op.f('fk_building_block_id_block')),
    sa.ForeignKeyConstraint(['community_id'], ['admin_area.id'], name=op.f('fk_building_community_id_admin_area')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_building_grid_id_grid'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building')),
    sa.UniqueConstraint('code', name=op.f('uq_building_code'))
    )
    op.create_geospatial_index('idx_building_cell', 'building', ['cell'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('idx_building_geom', 'building', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_building_block_id'), 'building', ['block_id'], unique=False)
    op.create_index(op.f('ix_building_community_id'), 'building', ['community_id'], unique=False)
    op.create_index(op.f('ix_building_grid_id'), 'building', ['grid_id'], unique=False)
    op.create_geospatial_table('camera',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('heading_deg', sa.Float(), nullable=True),
    sa.Column('fov_deg', sa.Float(), nullable=False),
    sa.Column('range_m', sa.Float(), nullable=False),
    sa.Column('cam_class', sa.SmallInteger(), nullable=False),
    sa.Column('owner_dept', sa.Text(), nullable=True),
    sa.Column('online', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind IN ('bullet', 'dome', 'checkpoint', 'epolice', 'ptz')", name=op.f('ck_camera_kind_allowed')),
    sa.CheckConstraint('cam_class IN (1, 2, 3)', name=op.f('ck_camera_cam_class_allowed')),
    sa.CheckConstraint('fov_deg > 0 AND fov_deg <= 360', name=op.f('ck_camera_fov_range')),
    sa.CheckConstraint('heading_deg IS NULL OR (heading_deg >= 0 AND heading_deg < 360)', name=op.f('ck_camera_heading_range')),
    sa.CheckConstraint('range_m > 0', name=op.f('ck_camera_range_positive')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_camera_grid_id_grid'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_camera')),
    sa.UniqueConstraint('code', name=op.f('uq_camera_code'))
    )
    op.create_geospatial_index('idx_camera_geom', 'camera', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_camera_grid_id'), 'camera', ['grid_id'], unique=False)
    op.create_index(op.f('ix_camera_kind'), 'camera', ['kind'], unique=False)
    op.create_index(op.f('ix_camera_owner_dept'), 'camera', ['owner_dept'], unique=False)
    op.create_geospatial_table('component',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('class_code', sa.Text(), nullable=False),
    sa.Column('class_name', sa.Text(), nullable=False),
    sa.Column('owner_dept', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), server_default='ok', nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("state IN ('ok', 'damaged', 'missing', 'occupied')", name=op.f('ck_component_state_allowed')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_component_grid_id_grid'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_component')),
    sa.UniqueConstraint('code', name=op.f('uq_component_code'))
    )
    op.create_geospatial_index('idx_component_geom', 'component', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_component_class_code'), 'component', ['class_code'], unique=False)
    op.create_index(op.f('ix_component_grid_id'), 'component', ['grid_id'], unique=False)
    op.create_geospatial_table('event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('category_code', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), server_default='2', nullable=False),
    sa.Column('state', sa.Text(), server_default='reported', nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('duplicate_of_id', sa.BigInteger(), nullable=True),
    sa.Column('duplicate_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("channel IN ('self_settled', 'patrol', 'hotline', 'city_mgmt', 'video')", name=op.f('ck_event_channel_allowed')),
    sa.CheckConstraint("state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'closed', 'returned', 'rejected', 'reopened')", name=op.f('ck_event_state_allowed')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_event_rating_range')),
    sa.ForeignKeyConstraint(['community_id'], ['admin_area.id'], name=op.f('fk_event_community_id_admin_area')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['event.id'], name=op.f('fk_event_duplicate_of_id_event'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_event_grid_id_grid'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['street_id'], ['admin_area.id'], name=op.f('fk_event_street_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_event_channel_external_id')),
    sa.UniqueConstraint('code', name=op.f('uq_event_code'))
    )
    op.create_geospatial_index('idx_event_geom', 'event', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_event_category_code'), 'event', ['category_code'], unique=False)
    op.create_index(op.f('ix_event_community_id'), 'event', ['community_id'], unique=False)
    op.create_index(op.f('ix_event_department'), 'event', ['department'], unique=False)
    op.create_index(op.f('ix_event_duplicate_of_id'), 'event', ['duplicate_of_id'], unique=False)
    op.create_index(op.f('ix_event_grid_id'), 'event', ['grid_id'], unique=False)
    op.create_index(op.f('ix_event_reported_at'), 'event', ['reported_at'], unique=False)
    op.create_index('ix_event_state_reported', 'event', ['state', 'reported_at'], unique=False)
    op.create_index(op.f('ix_event_street_id'), 'event', ['street_id'], unique=False)
    op.create_table('event_history',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('from_state', sa.Text(), nullable=True),
    sa.Column('to_state', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_history_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_history'))
    )
    op.create_index(op.f('ix_event_history_event_id'), 'event_history', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_event_history_event_id'), table_name='event_history')
    op.drop_table('event_history')
    op.drop_index(op.f('ix_event_street_id'), table_name='event')
    op.drop_index('ix_event_state_reported', table_name='event')
    op.drop_index(op.f('ix_event_reported_at'), table_name='event')
    op.drop_index(op.f('ix_event_grid_id'), table_name='event')
    op.drop_index(op.f('ix_event_duplicate_of_id'), table_name='event')
    op.drop_index(op.f('ix_event_department'), table_name='event')
    op.drop_index(op.f('ix_event_community_id'), table_name='event')
    op.drop_index(op.f('ix_event_category_code'), table_name='event')
    op.drop_geospatial_index('idx_event_geom', table_name='event', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('event')
    op.drop_index(op.f('ix_component_grid_id'), table_name='component')
    op.drop_index(op.f('ix_component_class_code'), table_name='component')
    op.drop_geospatial_index('idx_component_geom', table_name='component', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('component')
    op.drop_index(op.f('ix_camera_owner_dept'), table_name='camera')
    op.drop_index(op.f('ix_camera_kind'), table_name='camera')
    op.drop_index(op.f('ix_camera_grid_id'), table_name='camera')
    op.drop_geospatial_index('idx_camera_geom', table_name='camera', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('camera')
    op.drop_index(op.f('ix_building_grid_id'), table_name='building')
    op.drop_index(op.f('ix_building_community_id'), table_name='building')
    op.drop_index(op.f('ix_building_block_id'), table_name='building')
    op.drop_geospatial_index('idx_building_geom', table_name='building', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_index('idx_building_cell', table_name='building', postgresql_using='gist', column_name='cell')
    op.drop_geospatial_table('building')
    op.drop_index(op.f('ix_grid_version_id'), table_name='grid')
    op.drop_index(op.f('ix_grid_community_id'), table_name='grid')
    op.drop_geospatial_index('idx_grid_geom', table_name='grid', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grid')
    op.drop_index(op.f('ix_block_community_id'), table_name='block')
    op.drop_geospatial_index('idx_block_geom', table_name='block', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('block')
    op.drop_geospatial_index('idx_water_geom', table_name='water', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('water')
    op.drop_geospatial_index('idx_road_geom', table_name='road', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('road')
    op.drop_index(op.f('ix_resource_kind'), table_name='resource')
    op.drop_geospatial_index('idx_resource_geom', table_name='resource', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('resource')
    op.drop_index(op.f('ix_grid_worker_status'), table_name='grid_worker')
    op.drop_geospatial_index('idx_grid_worker_geom', table_name='grid_worker', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grid_worker')
    op.drop_index('uq_grid_version_one_current', table_name='grid_version', postgresql_where=sa.text('is_current'))
    op.drop_table('grid_version')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_admin_area_parent_id'), table_name='admin_area')
    op.drop_index(op.f('ix_admin_area_level'), table_name='admin_area')
    op.drop_geospatial_index('idx_admin_area_geom', table_name='admin_area', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('admin_area')
